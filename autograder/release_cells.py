"""What each lab's released notebook holds, so a submission's own added cells can be told apart.

Graded from a notebook are the answer cells and every code cell the student added; the release's
other cells (imports, data loading, demos, widgets, test cells) are not run by the grader. A cell
is the release's when its cell id is one of the release's (Jupyter keeps ids when a notebook is
saved; a new cell gets a new random id), or, for a notebook whose ids were lost (an older
Jupyter, a copy through another tool), when its code is exactly one of the release's cells. The
installed grader has no labs/ folder, so this is a snapshot of labs/ written by
`python -m autograder.release_cells` (tests/test_submission.py checks it is current).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalized(source: str) -> str:
    """A cell's code as compared: trailing spaces and blank first/last lines do not count."""
    return "\n".join(line.rstrip() for line in source.splitlines()).strip("\n")


def source_hash(source: str) -> str:
    return hashlib.sha256(normalized(source).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def fingerprint(notebook: dict) -> dict:
    """{"ids": {cell id: [kind, grade_id]}, "given": [source hashes], "grade_ids": [...]} of a
    released notebook's code cells; kind is "answer" (a solution cell), "test" or "given"."""
    ids: dict[str, list[str]] = {}
    given: set[str] = set()
    grade_ids: set[str] = set()
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        if meta.get("grade_id"):
            grade_ids.add(str(meta["grade_id"]))
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        kind = "answer" if meta.get("solution") else "test" if meta.get("grade") else "given"
        if cell.get("id"):
            ids[str(cell["id"])] = [kind, str(meta.get("grade_id", ""))]
        if kind == "given":
            given.add(source_hash(source))
    return {"ids": ids, "given": sorted(given), "grade_ids": sorted(grade_ids)}


def current(root: Path = ROOT) -> dict[str, dict]:
    """The fingerprint of every lab's release under `root`/labs, by lab id."""
    return {
        path.parent.name: fingerprint(json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((root / "labs").glob("*/*.ipynb"))
        if path.stem == path.parent.name
    }


def release(lab_id: str | None) -> dict | None:
    """The stored fingerprint of a lab's release; None for a lab without one."""
    if lab_id is None:
        return None
    return RELEASES.get(lab_id)


MARKER = "# Written by `python -m autograder.release_cells`; do not edit by hand.\n"


def _write(path: Path = Path(__file__)) -> None:
    text = path.read_text(encoding="utf-8")
    data = json.dumps(current(), indent=1, sort_keys=True)
    body = f'_DATA = """\\\n{data}\n"""\nRELEASES: dict[str, dict] = json.loads(_DATA)\n'
    path.write_text(text[: text.rindex(MARKER) + len(MARKER)] + body, encoding="utf-8")


if __name__ == "__main__":
    _write()
    print(f"wrote {Path(__file__)} from {ROOT / 'labs'}", file=sys.stderr)

# Written by `python -m autograder.release_cells`; do not edit by hand.
_DATA = """\
{
 "01_convolution_by_hand": {
  "given": [
   "0cdf3af708d9d8bc",
   "1a03d74237e57473",
   "1e723acd833d9d4a",
   "24b3fbce141cbd58",
   "29e3b73680ba9e2e",
   "4e653ab568181202",
   "4f520ef2e6c88da3",
   "62d742f49bebd3b7",
   "64388214879b00df",
   "64b5f1d27e076c7c",
   "67df6f1e908956b3",
   "78b4bef5314526c2",
   "99b9b8375697dd86",
   "9b970e63a32019f6",
   "a3ff5760509ecc6a",
   "b0f563bd3168d60b",
   "b72e7ded5a3a99bd",
   "c601e13927a588b0",
   "df44c3d6eeca9635",
   "e3b5dcebb6e46ad6",
   "e83c88e8d966b7f6"
  ],
  "grade_ids": [
   "apply_kernel",
   "convolve2d",
   "my_mnist_size",
   "my_pixels_v10",
   "test_apply_kernel_apply_kernel",
   "test_apply_kernel_hidden",
   "test_convolve2d_convolve2d",
   "test_convolve2d_hidden",
   "test_my_mnist_size_prediction",
   "test_my_pixels_v10_prediction"
  ],
  "ids": {
   "1": [
    "given",
    ""
   ],
   "10": [
    "given",
    ""
   ],
   "13": [
    "answer",
    "apply_kernel"
   ],
   "15": [
    "given",
    ""
   ],
   "17": [
    "test",
    "test_apply_kernel_apply_kernel"
   ],
   "18": [
    "test",
    "test_apply_kernel_hidden"
   ],
   "20": [
    "answer",
    "my_mnist_size"
   ],
   "21": [
    "given",
    ""
   ],
   "22": [
    "answer",
    "convolve2d"
   ],
   "24": [
    "test",
    "test_convolve2d_convolve2d"
   ],
   "25": [
    "test",
    "test_convolve2d_hidden"
   ],
   "27": [
    "given",
    ""
   ],
   "29": [
    "given",
    ""
   ],
   "3": [
    "answer",
    "my_pixels_v10"
   ],
   "31": [
    "given",
    ""
   ],
   "33": [
    "given",
    ""
   ],
   "34": [
    "given",
    ""
   ],
   "35": [
    "given",
    ""
   ],
   "36": [
    "given",
    ""
   ],
   "38": [
    "given",
    ""
   ],
   "4": [
    "given",
    ""
   ],
   "40": [
    "given",
    ""
   ],
   "42": [
    "given",
    ""
   ],
   "44": [
    "given",
    ""
   ],
   "46": [
    "given",
    ""
   ],
   "49": [
    "given",
    ""
   ],
   "51": [
    "given",
    ""
   ],
   "6": [
    "given",
    ""
   ],
   "8": [
    "given",
    ""
   ],
   "t_my_mnist_size": [
    "test",
    "test_my_mnist_size_prediction"
   ],
   "t_my_pixels_v10": [
    "test",
    "test_my_pixels_v10_prediction"
   ]
  }
 },
 "02_stride_padding": {
  "given": [
   "0f3ae5b3814cdd15",
   "1ada61b07b93a344",
   "21a23fb9dcda4b1c",
   "25a84058548b1f9c",
   "2b95c3f868a19ef2",
   "2c7810e0fc82b0fc",
   "2e3bdfeaa53f4701",
   "34fe76286fe315b6",
   "3e9a75d4f7eef4a9",
   "4e9d8ad10872a5f7",
   "5f02ff458de9d994",
   "73abcbcd7c878a79",
   "7ebae84cf00f99f4",
   "90fb366af2c64ffe",
   "936c7cb1f39eec8c",
   "a61d398040963ee8",
   "b44374a93bdfe368",
   "c684099de319d8fd",
   "c8717189ea0b7b45",
   "d8881191e86df0b6",
   "f861dad3c563e51e"
  ],
  "grade_ids": [
   "convolve2d_strided",
   "my_p2_width",
   "my_sobel_same",
   "output_size",
   "receptive_field",
   "same_padding",
   "test_convolve2d_strided_hidden",
   "test_convolve2d_strided_letter_case",
   "test_convolve2d_strided_strided_same",
   "test_convolve2d_strided_strided_valid",
   "test_my_p2_width_prediction",
   "test_my_sobel_same_prediction",
   "test_output_size_explicit_padding",
   "test_output_size_hidden",
   "test_output_size_letter_case",
   "test_output_size_output_size",
   "test_receptive_field_hidden",
   "test_receptive_field_receptive_field",
   "test_same_padding_hidden",
   "test_same_padding_same_padding",
   "test_zero_pad_hidden",
   "test_zero_pad_zero_pad",
   "zero_pad"
  ],
  "ids": {
   "1": [
    "given",
    ""
   ],
   "11": [
    "given",
    ""
   ],
   "12": [
    "given",
    ""
   ],
   "14": [
    "answer",
    "output_size"
   ],
   "15": [
    "given",
    ""
   ],
   "17": [
    "test",
    "test_output_size_output_size"
   ],
   "18": [
    "test",
    "test_output_size_explicit_padding"
   ],
   "19": [
    "test",
    "test_output_size_hidden"
   ],
   "21": [
    "answer",
    "same_padding"
   ],
   "22": [
    "given",
    ""
   ],
   "24": [
    "test",
    "test_same_padding_same_padding"
   ],
   "25": [
    "test",
    "test_same_padding_hidden"
   ],
   "27": [
    "answer",
    "zero_pad"
   ],
   "28": [
    "given",
    ""
   ],
   "3": [
    "given",
    ""
   ],
   "30": [
    "test",
    "test_zero_pad_zero_pad"
   ],
   "31": [
    "test",
    "test_zero_pad_hidden"
   ],
   "33": [
    "given",
    ""
   ],
   "35": [
    "answer",
    "convolve2d_strided"
   ],
   "37": [
    "test",
    "test_convolve2d_strided_strided_valid"
   ],
   "38": [
    "test",
    "test_convolve2d_strided_strided_same"
   ],
   "39": [
    "test",
    "test_convolve2d_strided_hidden"
   ],
   "4": [
    "given",
    ""
   ],
   "41": [
    "given",
    ""
   ],
   "43": [
    "given",
    ""
   ],
   "45": [
    "given",
    ""
   ],
   "46": [
    "answer",
    "my_sobel_same"
   ],
   "47": [
    "test",
    "test_my_sobel_same_prediction"
   ],
   "48": [
    "given",
    ""
   ],
   "50": [
    "given",
    ""
   ],
   "52": [
    "given",
    ""
   ],
   "54": [
    "given",
    ""
   ],
   "56": [
    "given",
    ""
   ],
   "58": [
    "given",
    ""
   ],
   "59": [
    "given",
    ""
   ],
   "61": [
    "given",
    ""
   ],
   "63": [
    "answer",
    "receptive_field"
   ],
   "64": [
    "test",
    "test_receptive_field_receptive_field"
   ],
   "65": [
    "test",
    "test_receptive_field_hidden"
   ],
   "7": [
    "answer",
    "my_p2_width"
   ],
   "8": [
    "test",
    "test_my_p2_width_prediction"
   ],
   "9": [
    "given",
    ""
   ],
   "test-convolve2d-strided-letter-case": [
    "test",
    "test_convolve2d_strided_letter_case"
   ],
   "test-output-size-letter-case": [
    "test",
    "test_output_size_letter_case"
   ]
  }
 },
 "03_filter_banks": {
  "given": [
   "12726892ab23908e",
   "166dc31bc158c401",
   "1725d4486428e20c",
   "1ee5305e2f73b76c",
   "2bfa74d8246a722a",
   "356fd052bde00762",
   "38b0705bd014ae44",
   "61cbd7887217ea61",
   "68ea6f0a2eb41b9c",
   "6a9db51438860f7c",
   "90ad782411648cf0",
   "9518f1e273145cc6",
   "9a973bc4e93595a4",
   "9dd273ce9b8e9a9c",
   "c1237b5f41cafb92",
   "cde57601bc56c868",
   "d3679d071e3a3057",
   "f06e2d641431b874",
   "f23c9bf5596a0c03",
   "f82434ec60961424"
  ],
  "grade_ids": [
   "conv2d",
   "conv_matrix",
   "my_conv_weights",
   "my_dense_weights",
   "test_conv2d_argument_forms",
   "test_conv2d_batch",
   "test_conv2d_edges",
   "test_conv2d_filter_bank",
   "test_conv2d_hidden",
   "test_conv2d_multichannel",
   "test_conv2d_same_asymmetric",
   "test_conv2d_same_odd",
   "test_conv2d_valid_stride1",
   "test_conv2d_valid_strided",
   "test_conv_matrix_conv_matrix",
   "test_conv_matrix_hidden",
   "test_my_conv_weights_prediction",
   "test_my_dense_weights_prediction"
  ],
  "ids": {
   "1": [
    "given",
    ""
   ],
   "10": [
    "given",
    ""
   ],
   "11": [
    "given",
    ""
   ],
   "14": [
    "answer",
    "conv2d"
   ],
   "16": [
    "given",
    ""
   ],
   "18": [
    "test",
    "test_conv2d_valid_stride1"
   ],
   "19": [
    "test",
    "test_conv2d_valid_strided"
   ],
   "20": [
    "test",
    "test_conv2d_same_odd"
   ],
   "21": [
    "test",
    "test_conv2d_same_asymmetric"
   ],
   "22": [
    "test",
    "test_conv2d_multichannel"
   ],
   "23": [
    "test",
    "test_conv2d_filter_bank"
   ],
   "24": [
    "test",
    "test_conv2d_batch"
   ],
   "25": [
    "test",
    "test_conv2d_edges"
   ],
   "26": [
    "test",
    "test_conv2d_hidden"
   ],
   "28": [
    "given",
    ""
   ],
   "31": [
    "given",
    ""
   ],
   "33": [
    "given",
    ""
   ],
   "35": [
    "given",
    ""
   ],
   "37": [
    "given",
    ""
   ],
   "4": [
    "given",
    ""
   ],
   "40": [
    "answer",
    "conv_matrix"
   ],
   "42": [
    "test",
    "test_conv_matrix_conv_matrix"
   ],
   "43": [
    "test",
    "test_conv_matrix_hidden"
   ],
   "45": [
    "given",
    ""
   ],
   "47": [
    "given",
    ""
   ],
   "48": [
    "given",
    ""
   ],
   "50": [
    "answer",
    "my_dense_weights"
   ],
   "51": [
    "given",
    ""
   ],
   "52": [
    "given",
    ""
   ],
   "54": [
    "given",
    ""
   ],
   "56": [
    "given",
    ""
   ],
   "57": [
    "given",
    ""
   ],
   "6": [
    "given",
    ""
   ],
   "8": [
    "given",
    ""
   ],
   "a_my_conv_weights": [
    "answer",
    "my_conv_weights"
   ],
   "t_my_conv_weights": [
    "test",
    "test_my_conv_weights_prediction"
   ],
   "t_my_dense_weights": [
    "test",
    "test_my_dense_weights_prediction"
   ],
   "test-conv2d-argument-forms": [
    "test",
    "test_conv2d_argument_forms"
   ]
  }
 },
 "04_tf_conv2d": {
  "given": [
   "101f2ab1b53b8b31",
   "2f2ce1dee3ce63eb",
   "34412a7e05130f5f",
   "3d61f63e222f8d7b",
   "3d71bec512794d3d",
   "4957aeec96d39ccd",
   "4eefba213a1038a4",
   "587a76f696a8709b",
   "71169c79ec9b6968",
   "76db313f334623cf",
   "81589ccbee626d11",
   "9e9676f117e708dd",
   "a50f95e49ccae9d2",
   "a79558944be67f46",
   "ab47a6fbc1677e52",
   "c42130e75ecc071f",
   "cbaf119ae391a47c",
   "d44c91ec404cd3e0",
   "e978078eb2fb82b5",
   "ffcbc0adae9d6cd4"
  ],
  "grade_ids": [
   "cifar_conv",
   "cifar_filter_shape",
   "learn_kernel",
   "mnist_conv",
   "my_cifar_shape",
   "my_mnist_shape",
   "test_cifar_conv_cifar_conv",
   "test_cifar_conv_hidden",
   "test_cifar_filter_shape_cifar_filter_shape",
   "test_learn_kernel_hidden",
   "test_learn_kernel_learn_kernel",
   "test_mnist_conv_hidden",
   "test_mnist_conv_mnist_conv",
   "test_my_cifar_shape_prediction",
   "test_my_mnist_shape_prediction"
  ],
  "ids": {
   "1": [
    "given",
    ""
   ],
   "10": [
    "answer",
    "mnist_conv"
   ],
   "12": [
    "test",
    "test_mnist_conv_mnist_conv"
   ],
   "13": [
    "test",
    "test_mnist_conv_hidden"
   ],
   "15": [
    "answer",
    "my_cifar_shape"
   ],
   "16": [
    "test",
    "test_my_cifar_shape_prediction"
   ],
   "17": [
    "given",
    ""
   ],
   "18": [
    "answer",
    "cifar_filter_shape"
   ],
   "19": [
    "answer",
    "cifar_conv"
   ],
   "21": [
    "test",
    "test_cifar_filter_shape_cifar_filter_shape"
   ],
   "22": [
    "test",
    "test_cifar_conv_cifar_conv"
   ],
   "23": [
    "test",
    "test_cifar_conv_hidden"
   ],
   "24": [
    "given",
    ""
   ],
   "25": [
    "given",
    ""
   ],
   "27": [
    "given",
    ""
   ],
   "3": [
    "answer",
    "my_mnist_shape"
   ],
   "30": [
    "given",
    ""
   ],
   "31": [
    "given",
    ""
   ],
   "33": [
    "answer",
    "learn_kernel"
   ],
   "34": [
    "test",
    "test_learn_kernel_learn_kernel"
   ],
   "35": [
    "test",
    "test_learn_kernel_hidden"
   ],
   "37": [
    "given",
    ""
   ],
   "4": [
    "test",
    "test_my_mnist_shape_prediction"
   ],
   "40": [
    "given",
    ""
   ],
   "41": [
    "given",
    ""
   ],
   "43": [
    "given",
    ""
   ],
   "44": [
    "given",
    ""
   ],
   "46": [
    "given",
    ""
   ],
   "48": [
    "given",
    ""
   ],
   "5": [
    "given",
    ""
   ],
   "50": [
    "given",
    ""
   ],
   "51": [
    "given",
    ""
   ],
   "53": [
    "given",
    ""
   ],
   "7": [
    "given",
    ""
   ],
   "8": [
    "given",
    ""
   ]
  }
 },
 "05_fast_conv2d": {
  "given": [
   "075af24741b3c3b2",
   "119e3c26c719ea3a",
   "215480067b94eee3",
   "2d125ba7eae1e622",
   "4874bb4007dcd7d0",
   "4ad37ac39eac0ac1",
   "5b7706b4f5df8728",
   "66c120d026ec26ba",
   "756456d807f5ed38",
   "95b407072e26de2d",
   "fb29dfad365c3bb7",
   "fb9850aeee936075"
  ],
  "grade_ids": [
   "conv2d_fast",
   "my_cifar_macs",
   "my_im2col_shape",
   "test_conv2d_fast_argument_forms",
   "test_conv2d_fast_batch",
   "test_conv2d_fast_edges",
   "test_conv2d_fast_filter_bank",
   "test_conv2d_fast_hidden",
   "test_conv2d_fast_multichannel",
   "test_conv2d_fast_same_asymmetric",
   "test_conv2d_fast_same_odd",
   "test_conv2d_fast_valid_stride1",
   "test_conv2d_fast_valid_strided",
   "test_conv2d_fast_vectorized",
   "test_my_cifar_macs_prediction",
   "test_my_im2col_shape_prediction"
  ],
  "ids": {
   "1": [
    "given",
    ""
   ],
   "10": [
    "test",
    "test_conv2d_fast_same_odd"
   ],
   "11": [
    "test",
    "test_conv2d_fast_same_asymmetric"
   ],
   "12": [
    "test",
    "test_conv2d_fast_multichannel"
   ],
   "13": [
    "test",
    "test_conv2d_fast_filter_bank"
   ],
   "14": [
    "test",
    "test_conv2d_fast_batch"
   ],
   "15": [
    "test",
    "test_conv2d_fast_edges"
   ],
   "16": [
    "test",
    "test_conv2d_fast_hidden"
   ],
   "18": [
    "answer",
    "my_im2col_shape"
   ],
   "19": [
    "given",
    ""
   ],
   "21": [
    "given",
    ""
   ],
   "23": [
    "answer",
    "my_cifar_macs"
   ],
   "24": [
    "given",
    ""
   ],
   "25": [
    "given",
    ""
   ],
   "26": [
    "given",
    ""
   ],
   "27": [
    "given",
    ""
   ],
   "29": [
    "given",
    ""
   ],
   "3": [
    "given",
    ""
   ],
   "30": [
    "given",
    ""
   ],
   "32": [
    "given",
    ""
   ],
   "33": [
    "given",
    ""
   ],
   "6": [
    "answer",
    "conv2d_fast"
   ],
   "8": [
    "test",
    "test_conv2d_fast_valid_stride1"
   ],
   "9": [
    "test",
    "test_conv2d_fast_valid_strided"
   ],
   "t_my_cifar_macs": [
    "test",
    "test_my_cifar_macs_prediction"
   ],
   "t_my_im2col_shape": [
    "test",
    "test_my_im2col_shape_prediction"
   ],
   "test-conv2d-fast-argument-forms": [
    "test",
    "test_conv2d_fast_argument_forms"
   ],
   "test-conv2d-fast-vectorized": [
    "test",
    "test_conv2d_fast_vectorized"
   ]
  }
 }
}
"""
RELEASES: dict[str, dict] = json.loads(_DATA)
