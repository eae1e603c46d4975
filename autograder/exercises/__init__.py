"""The bundle's exercises, one module per graded function family (see autograder.exercise)."""
