"""Consultations: dashboard, detail, registers, suites, DCE, questions/answers."""
