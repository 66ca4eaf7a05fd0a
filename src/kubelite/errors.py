"""The root of kubelite's typed errors. Each layer defines its own subclasses; the API layer
alone turns them into Kubernetes Status bodies (design principle 7). Never branch on message
text: branch on the type and its fields."""


class KubeliteError(Exception):
    """Base class of every error kubelite raises on purpose."""
