"""kubelite: a single-node, Kubernetes-compatible Pod runtime on runc and conmon."""

__version__ = "0.1.0"
