"""What the learner sees: live dashboards (``widgets``), plots (``plots``) and check-yourself questions (``quiz``)."""
from .quiz import Quiz, quiz
from .widgets import Dashboard, DashboardError, slider

__all__ = ["Dashboard", "DashboardError", "Quiz", "quiz", "slider"]
