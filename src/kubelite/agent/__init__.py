"""The node agent (the kubelet role): a pure decision core plus the executors that act on it."""
