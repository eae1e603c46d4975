"""nbgrader configuration: solutions/ is the source, labs/ is the release."""

c = get_config()  # noqa: F821  (injected by traitlets)

import os  # noqa: E402

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
c.CourseDirectory.course_id = "convlab"
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.Execute.timeout = 120
# A cell that runs past the timeout is interrupted and the notebook goes on (the grade is computed
# outside the kernel anyway). nbgrader would otherwise give up on the whole notebook when the
# interrupted kernel is slow to report idle (a student's loop inside numpy), and that student
# would get no grade at all.
c.Execute.raise_on_iopub_timeout = False
c.Execute.iopub_timeout = 15

# The release: first the locked test cells are written from each Exercise's declaration (suite,
# points, hidden or not; a test cell no exercise declares stops the release); a graded
# prediction's answer cell keeps only its `my_... = None` line (nbgrader's stub would raise at the
# top level and stop "Run All"); every other solution gets the stub.
from nbgrader.converters import GenerateAssignment  # noqa: E402
from nbgrader.preprocessors import ClearSolutions  # noqa: E402

from autograder.nbgrader_release import ClearSolutionsKeepPredictions, WriteTestCells  # noqa: E402

# nbgrader's own release steps, in its order, with ClearSolutions swapped for ours.
c.GenerateAssignment.preprocessors = [WriteTestCells] + [
    ClearSolutionsKeepPredictions if step is ClearSolutions else step
    for step in GenerateAssignment.class_traits()["preprocessors"].default()
]

# The grade of record is computed outside the student's kernel: after the notebook has run, every
# graded test cell is overwritten with the sandboxed grader's verdict (the same as
# `python -m autograder grade`), so nothing a kernel does changes a score. The kernel starts
# without the course secret in its environment (in bubblewrap where it works) and does not run
# the test cells at all.
from nbconvert.preprocessors import ClearMetadataPreprocessor  # noqa: E402
from nbgrader.preprocessors import (  # noqa: E402
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.nbgrader_grade import (  # noqa: E402
    ExecuteAnswersOnly,
    GradeOutsideKernel,
    WriteWithoutFollowingLinks,
)

c.Execute.kernel_manager_class = "autograder.nbgrader_grade.ScrubbedKernelManager"
c.Autograde.autograde_preprocessors = [
    ExecuteAnswersOnly,  # the graded test cells are not run in the kernel: see the next one
    GradeOutsideKernel,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
    # nbgrader's writer replaced by one that never writes through a link the kernel left
    WriteWithoutFollowingLinks,
]

# Feedback shows what the hidden tests reported, never their code. (No traceback can quote it:
# autograde replaces every graded test cell's outputs with the grader's report, above.)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [
    ClearHiddenTests,
    GetGrades,
    CSSHTMLHeaderPreprocessor,
    WriteWithoutFollowingLinks,
]
