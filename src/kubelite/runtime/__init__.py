"""The only code that runs processes and touches the operating system for pods: sandboxes
(network/IPC/UTS namespaces, cgroups), containers through conmon + runc, exec, logs, volumes."""
