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

# Feedback shows what the hidden tests reported, never their code (nor tracebacks quoting it).
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

from autograder.nbgrader_feedback import ClearHiddenTracebacks  # noqa: E402

c.GenerateFeedback.preprocessors = [
    ClearHiddenTracebacks,
    ClearHiddenTests,
    GetGrades,
    CSSHTMLHeaderPreprocessor,
]
