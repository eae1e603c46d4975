"""nbgrader configuration: solutions/ is the source, labs/ is the release."""

c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.root = "."
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"
c.CourseDirectory.course_id = "convlab"
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}
c.Execute.timeout = 120
