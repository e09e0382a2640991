"""Local stand-ins for the third-party APIs (the only thing the tests imitate). Each fake answers like
the real API does — status codes, JSON bodies, headers — as recorded in shared/providers/."""
