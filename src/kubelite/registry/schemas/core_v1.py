"""Source of the core/v1 OpenAPI schemas, in the compact format described inside ``CORE_V1``.

Kept as a Python string so that it ships with the package like any module.
"""

CORE_V1 = r"""
# kubelite's OpenAPI source for the core/v1 kinds it serves. Read by kubelite.registry.pod_schema.
#
# Format (one definition per block):
#   Name [gvk=Kind] [object]                                  definition header, column 0;
#                                                             "object" = free-form, no fields
#     free text                                               the definition's description
#     .field[!] type [attr=value ...]: description            "!" = required
#         more description                                    (indented continuation lines)
# Types: string boolean integer int64 number byte object Quantity IntOrString Time MicroTime,
# another definition's name (meta.X = apimachinery meta/v1), T[] for arrays, map[T] for maps.
# Attributes: key= (patch merge key), strategy= (patch strategy), list= (list type),
# keys= (list map keys, comma separated), maptype= (map type), enum= (comma separated).
# Every description here is written for kubelite; none is copied from Kubernetes.

Pod gvk=Pod
  A Pod: one or more containers that are scheduled together onto a node and share its network
  namespace, volumes and lifetime.
  .apiVersion string: Schema version of this object; "v1" for Pods.
  .kind string: Type name of this object; "Pod".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data of the pod.
  .spec PodSpec: The desired state of the pod, written by its creator.
  .status PodStatus: The observed state of the pod, reported by the node agent. Read-only for
      most clients.

PodList gvk=PodList
  A page of Pods returned by a list request.
  .apiVersion string: Schema version of this object.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.
  .items! Pod[]: The pods in this page.

PodSpec
  What the pod should run and how: its containers, volumes and scheduling and runtime settings.
  .activeDeadlineSeconds int64: How long, in seconds from the start of the pod, it may be active
      before the node agent fails it with reason DeadlineExceeded. Must be a positive integer.
  .affinity Affinity: Scheduling constraints relative to nodes and other pods.
  .automountServiceAccountToken boolean: Whether a service-account API token should be mounted
      automatically.
  .containers! Container[] key=name strategy=merge list=map keys=name: The application
      containers of the pod. At least one is required, and containers cannot be added or removed
      after creation.
  .dnsConfig PodDNSConfig: Extra DNS settings merged into the ones chosen by dnsPolicy.
  .dnsPolicy string enum=ClusterFirst,ClusterFirstWithHostNet,Default,None: How the pod's DNS
      resolver is configured. Defaults to "ClusterFirst".
  .enableServiceLinks boolean: Whether environment variables describing services in the pod's
      namespace are injected. Defaults to true.
  .ephemeralContainers EphemeralContainer[] key=name strategy=merge list=map keys=name:
      Temporary containers added to a running pod for debugging, through the
      ephemeralcontainers subresource only.
  .hostAliases HostAlias[] key=ip strategy=merge list=map keys=ip: Extra entries written to the
      pod's /etc/hosts file.
  .hostIPC boolean: Use the node's IPC namespace. Defaults to false.
  .hostNetwork boolean: Use the node's network namespace instead of a private one. Container
      ports are then host ports. Defaults to false.
  .hostPID boolean: Use the node's process ID namespace. Defaults to false.
  .hostUsers boolean: Whether the pod runs in the node's user namespace (true, the default) or
      in a user namespace of its own (false).
  .hostname string: Host name inside the pod. Defaults to the pod's name.
  .imagePullSecrets LocalObjectReference[] key=name strategy=merge list=map keys=name: Secrets
      in the pod's namespace holding registry credentials for pulling its images.
  .initContainers Container[] key=name strategy=merge list=map keys=name: Containers that run
      before the application containers. Regular ones run one at a time, each to successful
      completion, in order. An init container with restartPolicy "Always" is a sidecar: it is
      started in order and keeps running alongside the application containers. Init containers
      cannot be added or removed after creation.
  .nodeName string: The node the pod is bound to. Set by the scheduler when left empty.
  .nodeSelector map[string] maptype=atomic: Labels a node must carry for the pod to be placed
      on it.
  .os PodOS: The operating system the pod's containers need.
  .overhead map[Quantity]: Resources consumed by the pod sandbox itself, on top of the
      containers' requests.
  .preemptionPolicy string enum=Never,PreemptLowerPriority: Whether the pod may evict pods of
      lower priority. Defaults to PreemptLowerPriority.
  .priority integer: Scheduling priority, filled in from priorityClassName. Higher is more
      important.
  .priorityClassName string: Name of the PriorityClass that sets the pod's priority.
  .readinessGates PodReadinessGate[] list=atomic: Extra conditions that must be true before the
      pod counts as ready.
  .resourceClaims PodResourceClaim[] key=name strategy=merge,retainKeys list=map keys=name:
      Dynamic resources the pod's containers may claim.
  .resources ResourceRequirements: Resources for the pod as a whole (when pod-level resources
      are enabled); cpu and memory only.
  .restartPolicy string enum=Always,Never,OnFailure: When containers of the pod are restarted
      after they exit: Always, OnFailure (only after a failure) or Never. Defaults to Always.
  .runtimeClassName string: Name of the RuntimeClass to run the pod with.
  .schedulerName string: The scheduler that places the pod. Defaults to "default-scheduler".
  .schedulingGates PodSchedulingGate[] key=name strategy=merge list=map keys=name: While any
      gate is present the pod is not scheduled.
  .securityContext PodSecurityContext: Security settings applied to every container of the pod
      unless a container overrides them.
  .serviceAccount string: Older name of serviceAccountName, kept in sync with it.
  .serviceAccountName string: Service account the pod runs as. Defaults to "default".
  .setHostnameAsFQDN boolean: Set the host name to the fully qualified domain name.
  .shareProcessNamespace boolean: Put all containers of the pod in one process namespace, so
      they can see and signal each other's processes. Cannot be combined with hostPID.
  .subdomain string: If set, the pod's fully qualified name is
      "<hostname>.<subdomain>.<namespace>.svc.<cluster domain>".
  .terminationGracePeriodSeconds int64: Seconds a pod gets to stop cleanly after being asked to
      (preStop hooks, then the stop signal) before its processes are killed. 0 means kill at
      once. Defaults to 30.
  .tolerations Toleration[] list=atomic: Taints the pod tolerates. Entries can only be added
      after creation.
  .topologySpreadConstraints TopologySpreadConstraint[] key=topologyKey strategy=merge
      list=map keys=topologyKey,whenUnsatisfiable: How matching pods should be spread over
      topology domains.
  .volumes Volume[] key=name strategy=merge,retainKeys list=map keys=name: Storage the pod's
      containers can mount, each under a unique name.

Container
  One process to run in the pod: its image, command, environment, ports, resources, probes and
  lifecycle hooks.
  .args string[] list=atomic: Arguments passed to the entrypoint. Replace the image's CMD.
      $(VAR) references to the container's environment are expanded; $$ gives a literal $.
  .command string[] list=atomic: The entrypoint, run without a shell. Replaces the image's
      ENTRYPOINT. $(VAR) references are expanded as in args.
  .env EnvVar[] key=name strategy=merge list=map keys=name: Environment variables set in the
      container.
  .envFrom EnvFromSource[] list=atomic: Sources whose keys all become environment variables.
      Explicit env entries win over these.
  .image string: The container image reference, such as "busybox:1.36". May be changed on a
      running pod, which restarts the container with the new image.
  .imagePullPolicy string enum=Always,IfNotPresent,Never: When to pull the image. Defaults to
      Always for a ":latest" tag or no tag, IfNotPresent otherwise.
  .lifecycle Lifecycle: Handlers run right after the container starts and right before it is
      stopped.
  .livenessProbe Probe: Periodic check of whether the container is alive. A container that fails
      it is restarted.
  .name! string: Name of the container, a DNS label unique within the pod.
  .ports ContainerPort[] key=containerPort strategy=merge list=map keys=containerPort,protocol:
      Ports the container listens on. Informational, except for hostPort.
  .readinessProbe Probe: Periodic check of whether the container can serve. A container that
      fails it is marked not ready but not restarted.
  .resizePolicy ContainerResizePolicy[] list=atomic: How the container reacts to an in-place
      change of its resources.
  .resources ResourceRequirements: Compute resources the container requests and is limited to.
  .restartPolicy string: For init containers only: "Always" makes it a sidecar that starts
      before the application containers and runs next to them. Regular containers may not set
      it.
  .securityContext SecurityContext: Security settings for this container; they override the
      pod's.
  .startupProbe Probe: A check that must succeed once before the liveness and readiness probes
      start. A container that keeps failing it is restarted.
  .stdin boolean: Keep a stdin stream open for the container.
  .stdinOnce boolean: Close stdin after the first attached client detaches.
  .terminationMessagePath string: File in the container whose contents become the termination
      message when it exits. Defaults to /dev/termination-log.
  .terminationMessagePolicy string enum=FallbackToLogsOnError,File: Where the termination
      message comes from: the file only (File), or the end of the log when the file is empty
      and the container failed (FallbackToLogsOnError). Defaults to File.
  .tty boolean: Allocate a terminal for the container. Needs stdin.
  .volumeDevices VolumeDevice[] key=devicePath strategy=merge list=map keys=devicePath: Raw
      block volumes exposed to the container as devices.
  .volumeMounts VolumeMount[] key=mountPath strategy=merge list=map keys=mountPath: Volumes of
      the pod mounted into this container's filesystem.
  .workingDir string: Working directory of the entrypoint. Defaults to the image's.

EphemeralContainer
  A temporary container added to a running pod, for example to debug it. It is never restarted
  and may not have ports, probes, lifecycle hooks or resources.
  .args string[] list=atomic: Arguments passed to the entrypoint.
  .command string[] list=atomic: The entrypoint, run without a shell.
  .env EnvVar[] key=name strategy=merge list=map keys=name: Environment variables.
  .envFrom EnvFromSource[] list=atomic: Sources whose keys become environment variables.
  .image string: The container image reference.
  .imagePullPolicy string enum=Always,IfNotPresent,Never: When to pull the image.
  .lifecycle Lifecycle: Not allowed for ephemeral containers.
  .livenessProbe Probe: Not allowed for ephemeral containers.
  .name! string: Name of the container, unique among all containers of the pod.
  .ports ContainerPort[] key=containerPort strategy=merge list=map keys=containerPort,protocol:
      Not allowed for ephemeral containers.
  .readinessProbe Probe: Not allowed for ephemeral containers.
  .resizePolicy ContainerResizePolicy[] list=atomic: Not allowed for ephemeral containers.
  .resources ResourceRequirements: Not allowed for ephemeral containers.
  .restartPolicy string: Not allowed for ephemeral containers.
  .securityContext SecurityContext: Security settings for this container.
  .startupProbe Probe: Not allowed for ephemeral containers.
  .stdin boolean: Keep a stdin stream open for the container.
  .stdinOnce boolean: Close stdin after the first attached client detaches.
  .targetContainerName string: Name of a container of the pod whose process namespace this
      container joins.
  .terminationMessagePath string: File whose contents become the termination message.
  .terminationMessagePolicy string enum=FallbackToLogsOnError,File: Where the termination
      message comes from.
  .tty boolean: Allocate a terminal for the container.
  .volumeDevices VolumeDevice[] key=devicePath strategy=merge list=map keys=devicePath: Raw
      block devices.
  .volumeMounts VolumeMount[] key=mountPath strategy=merge list=map keys=mountPath: Volumes
      mounted into the container; subPath is not allowed.
  .workingDir string: Working directory of the entrypoint.

ContainerPort
  A network port of a container.
  .containerPort! integer: Port number inside the pod's network namespace, 1 to 65535.
  .hostIP string: Node address to bind the host port to.
  .hostPort integer: Port on the node forwarded to containerPort. Equal to containerPort with
      hostNetwork.
  .name string: An IANA service name (at most 15 lowercase letters, digits and dashes) that
      probes and services can refer to. Unique within the container.
  .protocol string enum=SCTP,TCP,UDP: Protocol of the port. Defaults to TCP.

EnvVar
  One environment variable of a container.
  .name! string: Name of the variable.
  .value string: Literal value. $(VAR) references to variables defined earlier are expanded.
  .valueFrom EnvVarSource: Take the value from somewhere else instead. Not allowed together with
      a non-empty value.

EnvVarSource
  Where an environment variable's value comes from. Exactly one field must be set.
  .configMapKeyRef ConfigMapKeySelector: A key of a ConfigMap in the pod's namespace.
  .fieldRef ObjectFieldSelector: A field of the pod, such as metadata.name or status.podIP.
  .resourceFieldRef ResourceFieldSelector: A resource request or limit of a container.
  .secretKeyRef SecretKeySelector: A key of a Secret in the pod's namespace.

ObjectFieldSelector
  Selects a field of the pod by its path.
  .apiVersion string: Version the field path is written against. Defaults to "v1".
  .fieldPath! string: Path of the field, for example "metadata.labels['app']".

ResourceFieldSelector
  Selects a container's resource request or limit, scaled by a divisor.
  .containerName string: The container; required in volumes, defaults to the current one in env.
  .divisor Quantity: The value is divided by this and rounded up. Defaults to 1.
  .resource! string: Which value, such as "limits.cpu" or "requests.memory".

ConfigMapKeySelector
  One key of a ConfigMap.
  .key! string: The key to read.
  .name string: Name of the ConfigMap.
  .optional boolean: If true, a missing ConfigMap or key is not an error.

SecretKeySelector
  One key of a Secret.
  .key! string: The key to read.
  .name string: Name of the Secret.
  .optional boolean: If true, a missing Secret or key is not an error.

EnvFromSource
  A ConfigMap or Secret whose keys all become environment variables.
  .configMapRef ConfigMapEnvSource: The ConfigMap to read.
  .prefix string: Text put in front of every key to form the variable name.
  .secretRef SecretEnvSource: The Secret to read.

ConfigMapEnvSource
  A ConfigMap used as a set of environment variables.
  .name string: Name of the ConfigMap.
  .optional boolean: If true, a missing ConfigMap is not an error.

SecretEnvSource
  A Secret used as a set of environment variables.
  .name string: Name of the Secret.
  .optional boolean: If true, a missing Secret is not an error.

ResourceRequirements
  Compute resources a container asks for (requests) and may not exceed (limits).
  .claims ResourceClaim[] list=map keys=name: Names of pod resource claims this container
      uses.
  .limits map[Quantity]: Upper bounds, such as cpu "500m" or memory "128Mi".
  .requests map[Quantity]: Amounts reserved for the container. A resource with only a limit gets
      a request equal to it. A request may not exceed its limit.

ResourceClaim
  A reference to one of the pod's resource claims.
  .name! string: Name of an entry in the pod's resourceClaims.
  .request string: One request inside that claim.

ContainerResizePolicy
  What happens to a container when one of its resources is changed in place.
  .resourceName! string: The resource, cpu or memory.
  .restartPolicy! string enum=NotRequired,RestartContainer: Whether the container must be
      restarted to apply the change.

VolumeMount
  A volume of the pod mounted into a container.
  .mountPath! string: Absolute path in the container; unique within the container.
  .mountPropagation string enum=Bidirectional,HostToContainer,None: How mounts propagate between
      the host and the container. Defaults to None.
  .name! string: Name of one of the pod's volumes.
  .readOnly boolean: Mount read-only. Defaults to false.
  .recursiveReadOnly string enum=Disabled,Enabled,IfPossible: Whether a read-only mount is also
      read-only in its submounts. Needs readOnly.
  .subPath string: Relative path inside the volume to mount instead of its root.
  .subPathExpr string: Like subPath, with $(VAR) expanded from the container's environment.
      Exclusive with subPath.

VolumeDevice
  A raw block volume exposed to a container as a device.
  .devicePath! string: Path of the device inside the container.
  .name! string: Name of a persistentVolumeClaim volume of the pod.

Probe
  A periodic diagnostic run by the node agent against a container. Exactly one handler (exec,
  httpGet, tcpSocket or grpc) must be set.
  .exec ExecAction: Run a command in the container; exit status 0 is success.
  .failureThreshold integer: Consecutive failures after which the probe counts as failed.
      Defaults to 3.
  .grpc GRPCAction: Call the gRPC health-checking service on a port of the pod.
  .httpGet HTTPGetAction: Send an HTTP GET; a status from 200 to 399 is success.
  .initialDelaySeconds integer: Seconds to wait after the container starts before the first
      probe. Defaults to 0.
  .periodSeconds integer: Seconds between probes. Defaults to 10.
  .successThreshold integer: Consecutive successes needed after a failure. Defaults to 1; must
      be 1 for liveness and startup probes.
  .tcpSocket TCPSocketAction: Open a TCP connection to a port of the pod.
  .terminationGracePeriodSeconds int64: Grace period used instead of the pod's when this
      probe's failure kills the container. Not allowed on readiness probes.
  .timeoutSeconds integer: Seconds after which a probe attempt counts as failed. Defaults to 1.

ExecAction
  A command run inside the container.
  .command string[] list=atomic: The command and its arguments, run directly without a shell.

HTTPGetAction
  An HTTP GET request made by the node agent.
  .host string: Host to connect to. Defaults to the pod IP.
  .httpHeaders HTTPHeader[] list=atomic: Extra request headers.
  .path string: Path to request. Defaults to "/".
  .port! IntOrString: Port number or name of a container port.
  .scheme string enum=HTTP,HTTPS: HTTP or HTTPS. Defaults to HTTP.

HTTPHeader
  One HTTP header.
  .name! string: Header name.
  .value! string: Header value.

TCPSocketAction
  A TCP connection attempt.
  .host string: Host to connect to. Defaults to the pod IP.
  .port! IntOrString: Port number or name of a container port.

GRPCAction
  A call to the standard gRPC health-checking service.
  .port! integer: Port number of the gRPC service.
  .service string: Service name sent in the health-check request. Empty means the server as a
      whole.

SleepAction
  A pause of a fixed length.
  .seconds! int64: How many seconds to sleep; at most the pod's termination grace period.

Lifecycle
  Actions the node agent runs when a container has just started or is about to be stopped.
  .postStart LifecycleHandler: Runs right after the container is created. The container is not
      marked running until it finishes, and it is killed if the handler fails.
  .preStop LifecycleHandler: Runs before the stop signal when the container is stopped by the
      node agent (deletion, probe failure, image change). The grace period keeps counting while
      it runs.
  .stopSignal string: Signal used to stop the container, overriding the image's.

LifecycleHandler
  One lifecycle action. Exactly one of exec, httpGet, sleep and tcpSocket must be set.
  .exec ExecAction: Run a command in the container.
  .httpGet HTTPGetAction: Send an HTTP GET; any response counts as success.
  .sleep SleepAction: Wait for a number of seconds.
  .tcpSocket TCPSocketAction: Kept for compatibility; not run as a hook.

SecurityContext
  Security settings of one container. They override the pod-level settings.
  .allowPrivilegeEscalation boolean: Whether a process may gain more privileges than its parent
      (the no_new_privs flag).
  .appArmorProfile AppArmorProfile: AppArmor profile of the container.
  .capabilities Capabilities: Linux capabilities to add or drop.
  .privileged boolean: Run with all host devices and capabilities. Defaults to false.
  .procMount string enum=Default,Unmasked: Which /proc masking applies.
  .readOnlyRootFilesystem boolean: Mount the root filesystem read-only.
  .runAsGroup int64: Primary group ID of the entrypoint process.
  .runAsNonRoot boolean: Refuse to start the container if it would run as user 0.
  .runAsUser int64: User ID of the entrypoint process. Defaults to the image's user.
  .seLinuxOptions SELinuxOptions: SELinux label of the container.
  .seccompProfile SeccompProfile: Seccomp filter of the container.
  .windowsOptions object: Windows-specific settings; ignored on Linux.

Capabilities
  Linux capabilities to add to or drop from the runtime's default set.
  .add string[] list=atomic: Capabilities to add, such as NET_ADMIN.
  .drop string[] list=atomic: Capabilities to remove; "ALL" removes every capability.

SELinuxOptions
  An SELinux label.
  .level string: Level part of the label.
  .role string: Role part of the label.
  .type string: Type part of the label.
  .user string: User part of the label.

SeccompProfile
  A seccomp filter.
  .localhostProfile string: Path of a profile file on the node, for type Localhost.
  .type! string enum=Localhost,RuntimeDefault,Unconfined: Which kind of profile.

AppArmorProfile
  An AppArmor profile.
  .localhostProfile string: Name of a profile loaded on the node, for type Localhost.
  .type! string enum=Localhost,RuntimeDefault,Unconfined: Which kind of profile.

PodSecurityContext
  Security settings for the whole pod; container-level settings override them.
  .appArmorProfile AppArmorProfile: AppArmor profile of every container.
  .fsGroup int64: Group that owns the supported volumes, added to every container's groups.
  .fsGroupChangePolicy string enum=Always,OnRootMismatch: When volume ownership is changed to
      fsGroup.
  .runAsGroup int64: Primary group ID of the containers' processes.
  .runAsNonRoot boolean: Refuse to start containers that would run as user 0.
  .runAsUser int64: User ID of the containers' processes.
  .seLinuxOptions SELinuxOptions: SELinux label applied to all containers.
  .seccompProfile SeccompProfile: Seccomp filter of all containers.
  .supplementalGroups int64[] list=atomic: Extra group IDs for every container's first process.
  .supplementalGroupsPolicy string enum=Merge,Strict: Whether groups from the image are added to
      supplementalGroups.
  .sysctls Sysctl[] list=atomic: Namespaced kernel parameters set for the pod.
  .windowsOptions object: Windows-specific settings; ignored on Linux.

Sysctl
  A kernel parameter.
  .name! string: Parameter name, such as net.ipv4.ip_local_port_range.
  .value! string: Value to set.

Toleration
  Allows the pod onto nodes with a matching taint.
  .effect string enum=NoExecute,NoSchedule,PreferNoSchedule: Taint effect to match; empty
      matches all effects.
  .key string: Taint key to match; empty with operator Exists matches every taint.
  .operator string enum=Equal,Exists: Equal compares the value; Exists matches any value.
      Defaults to Equal.
  .tolerationSeconds int64: For NoExecute taints: how long the pod stays bound after the taint
      appears. Unset means forever.
  .value string: Taint value to match with operator Equal.

PodDNSConfig
  DNS resolver settings for the pod.
  .nameservers string[] list=atomic: Name server addresses.
  .options PodDNSConfigOption[] list=atomic: Resolver options.
  .searches string[] list=atomic: Search domains.

PodDNSConfigOption
  One resolver option.
  .name string: Option name, such as ndots.
  .value string: Option value.

HostAlias
  Extra host names for one IP address in the pod's /etc/hosts.
  .hostnames string[] list=atomic: Names for the address.
  .ip! string: The IP address.

PodReadinessGate
  An extra pod condition that must be true for the pod to be ready.
  .conditionType! string: Type of the condition in the pod's status.

PodSchedulingGate
  A gate that holds the pod back from scheduling while present.
  .name! string: Name of the gate.

PodOS
  The operating system a pod needs.
  .name! string: "linux" or "windows".

PodResourceClaim
  A dynamic resource claim available to the pod's containers.
  .name! string: Name containers use to refer to the claim.
  .resourceClaimName string: Name of an existing ResourceClaim.
  .resourceClaimTemplateName string: Name of a template from which a claim is made for the pod.

Affinity object
  Node affinity, pod affinity and pod anti-affinity rules used by the scheduler.

TopologySpreadConstraint object
  How pods matching a selector are spread across topology domains.

LocalObjectReference
  The name of an object in the same namespace.
  .name string: Name of the object.

Volume
  A named volume of the pod. Exactly one source field must be set; with none, emptyDir is used.
  .configMap ConfigMapVolumeSource: Files made from the keys of a ConfigMap.
  .csi object: A volume provided by a CSI driver.
  .downwardAPI DownwardAPIVolumeSource: Files holding fields of the pod.
  .emptyDir EmptyDirVolumeSource: An empty directory that lives as long as the pod.
  .ephemeral object: A volume provisioned for the pod and removed with it.
  .hostPath HostPathVolumeSource: A file or directory of the node. Use with care.
  .image ImageVolumeSource: The contents of an OCI image or artifact, read-only.
  .name! string: Name of the volume, a DNS label unique within the pod.
  .nfs object: An NFS export.
  .persistentVolumeClaim PersistentVolumeClaimVolumeSource: A PersistentVolumeClaim in the
      pod's namespace.
  .projected ProjectedVolumeSource: Several sources combined in one directory.
  .secret SecretVolumeSource: Files made from the keys of a Secret.

EmptyDirVolumeSource
  An empty directory shared by the pod's containers, created when the pod starts on a node and
  removed with the pod.
  .medium string: Storage medium: "" for the node's disk or "Memory" for a tmpfs.
  .sizeLimit Quantity: Most space the volume may use; exceeding it evicts the pod.

HostPathVolumeSource
  A path on the node.
  .path! string: Path on the node; a symbolic link is followed.
  .type string enum=,BlockDevice,CharDevice,Directory,DirectoryOrCreate,File,FileOrCreate,Socket:
      What must exist at the path. Defaults to "" (no check).

ConfigMapVolumeSource
  Files made from the keys of a ConfigMap.
  .defaultMode integer: Permission bits of the files, 0 to 0777. Defaults to 0644.
  .items KeyToPath[] list=atomic: Only these keys, at these paths. Default: every key at a file
      of its own name.
  .name string: Name of the ConfigMap.
  .optional boolean: If true, a missing ConfigMap or key is not an error.

SecretVolumeSource
  Files made from the keys of a Secret.
  .defaultMode integer: Permission bits of the files, 0 to 0777. Defaults to 0644.
  .items KeyToPath[] list=atomic: Only these keys, at these paths.
  .optional boolean: If true, a missing Secret or key is not an error.
  .secretName string: Name of the Secret.

KeyToPath
  One key placed at a path in a volume.
  .key! string: The key.
  .mode integer: Permission bits of this file, 0 to 0777.
  .path! string: Relative path of the file; may not contain "..".

DownwardAPIVolumeSource
  Files holding fields of the pod.
  .defaultMode integer: Permission bits of the files. Defaults to 0644.
  .items DownwardAPIVolumeFile[] list=atomic: The files.

DownwardAPIVolumeFile
  One file of a downwardAPI volume.
  .fieldRef ObjectFieldSelector: A field of the pod; labels and annotations maps are allowed.
  .mode integer: Permission bits of this file.
  .path! string: Relative path of the file.
  .resourceFieldRef ResourceFieldSelector: A container's resource request or limit.

ProjectedVolumeSource
  Several sources combined into one directory.
  .defaultMode integer: Permission bits of the files. Defaults to 0644.
  .sources VolumeProjection[] list=atomic: The sources.

VolumeProjection
  One source of a projected volume; exactly one field must be set.
  .clusterTrustBundle object: Certificates from ClusterTrustBundle objects.
  .configMap ConfigMapProjection: Keys of a ConfigMap.
  .downwardAPI DownwardAPIProjection: Fields of the pod.
  .secret SecretProjection: Keys of a Secret.
  .serviceAccountToken ServiceAccountTokenProjection: A service-account token.

ConfigMapProjection
  Keys of a ConfigMap in a projected volume.
  .items KeyToPath[] list=atomic: Only these keys, at these paths.
  .name string: Name of the ConfigMap.
  .optional boolean: If true, a missing ConfigMap is not an error.

SecretProjection
  Keys of a Secret in a projected volume.
  .items KeyToPath[] list=atomic: Only these keys, at these paths.
  .name string: Name of the Secret.
  .optional boolean: If true, a missing Secret is not an error.

DownwardAPIProjection
  Pod fields in a projected volume.
  .items DownwardAPIVolumeFile[] list=atomic: The files.

ServiceAccountTokenProjection
  A service-account token in a projected volume.
  .audience string: Intended audience of the token.
  .expirationSeconds int64: Requested lifetime of the token. Defaults to 3600.
  .path! string: Relative path of the token file.

PersistentVolumeClaimVolumeSource
  A reference to a PersistentVolumeClaim.
  .claimName! string: Name of the claim in the pod's namespace.
  .readOnly boolean: Mount read-only.

ImageVolumeSource
  An OCI image or artifact mounted read-only.
  .pullPolicy string enum=Always,IfNotPresent,Never: When to pull it.
  .reference string: Image or artifact reference.

PodStatus
  What the node agent last observed about the pod.
  .conditions PodCondition[] key=type strategy=merge list=map keys=type: Current conditions,
      such as PodScheduled, Initialized, ContainersReady and Ready.
  .containerStatuses ContainerStatus[] list=atomic: One entry per application container.
  .ephemeralContainerStatuses ContainerStatus[] list=atomic: One entry per ephemeral container.
  .hostIP string: Primary IP address of the node the pod runs on.
  .hostIPs HostIP[] key=ip strategy=merge list=atomic: Every IP address of the node.
  .initContainerStatuses ContainerStatus[] list=atomic: One entry per init container,
      sidecars included.
  .message string: Human-readable detail about the pod's state.
  .nominatedNodeName string: Node chosen by preemption for this pod.
  .observedGeneration int64: The metadata.generation this status was computed from.
  .phase string enum=Failed,Pending,Running,Succeeded,Unknown: Coarse summary of where the pod
      is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.
  .podIP string: Primary IP address of the pod.
  .podIPs PodIP[] key=ip strategy=merge list=map keys=ip: Every IP address of the pod.
  .qosClass string enum=BestEffort,Burstable,Guaranteed: Quality-of-service class worked out
      from the containers' requests and limits.
  .reason string: Short machine-readable reason for the state, such as Evicted.
  .resize string: Status of an in-place resize of the pod.
  .resourceClaimStatuses object: Names of the claims generated for the pod.
  .startTime Time: When the node agent accepted the pod, before any image was pulled.

PodCondition
  One condition of a pod.
  .lastProbeTime Time: When the condition was last checked.
  .lastTransitionTime Time: When the status last changed.
  .message string: Human-readable detail.
  .observedGeneration int64: The metadata.generation the condition was computed from.
  .reason string: Machine-readable reason for the last change.
  .status! string: "True", "False" or "Unknown".
  .type! string: Condition type, such as Ready.

PodIP
  One IP address of a pod.
  .ip! string: The address.

HostIP
  One IP address of a node.
  .ip! string: The address.

ContainerStatus
  The observed state of one container.
  .allocatedResources map[Quantity]: Resources the node has allocated to the container.
  .allocatedResourcesStatus object: Health of the container's allocated devices.
  .containerID string: Runtime identifier, as "<runtime>://<id>".
  .image! string: The image the container runs.
  .imageID! string: Resolved identifier (digest) of that image.
  .lastState ContainerState: The state of the previous instance, as of its termination.
  .name! string: Name of the container.
  .ready! boolean: Whether the readiness probe (if any) passes.
  .resources ResourceRequirements: Resources currently applied to the container.
  .restartCount! integer: How many times the container has been restarted.
  .started boolean: Whether the startup probe (if any) has succeeded and postStart finished.
  .state ContainerState: The current state.
  .stopSignal string: The signal that will stop the container.
  .user object: Identity of the container's first process.
  .volumeMounts object: Status of the container's volume mounts.

ContainerState
  State of a container; at most one field is set. If none is, the container is waiting.
  .running ContainerStateRunning: The container is running.
  .terminated ContainerStateTerminated: The container has exited.
  .waiting ContainerStateWaiting: The container is not running yet.

ContainerStateWaiting
  A container that is not yet running.
  .message string: Human-readable detail.
  .reason string: Why it is waiting, such as ContainerCreating, PodInitializing, ErrImagePull
      or CrashLoopBackOff.

ContainerStateRunning
  A running container.
  .startedAt Time: When the current instance started.

ContainerStateTerminated
  An exited container.
  .containerID string: Runtime identifier of the exited instance.
  .exitCode! integer: Exit status of the process.
  .finishedAt Time: When it exited.
  .message string: The termination message.
  .reason string: Short reason, such as Completed, Error or OOMKilled.
  .signal integer: Signal that killed the process, if known.
  .startedAt Time: When it started.

ConfigMap gvk=ConfigMap
  Configuration data in key/value form, for pods to read as environment variables or files.
  .apiVersion string: Schema version of this object; "v1".
  .binaryData map[byte]: Keys with base64-encoded binary values. Keys may not repeat those of
      data.
  .data map[string]: Keys with UTF-8 string values.
  .immutable boolean: If true, data and binaryData can no longer be changed.
  .kind string: Type name of this object; "ConfigMap".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data.

ConfigMapList gvk=ConfigMapList
  A page of ConfigMaps.
  .apiVersion string: Schema version of this object.
  .items! ConfigMap[]: The ConfigMaps.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.

Secret gvk=Secret
  Sensitive key/value data, such as passwords or tokens.
  .apiVersion string: Schema version of this object; "v1".
  .data map[byte]: Keys with base64-encoded values.
  .immutable boolean: If true, the data can no longer be changed.
  .kind string: Type name of this object; "Secret".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data.
  .stringData map[string]: Write-only convenience: plain-text values merged into data when the
      object is written. Never returned.
  .type string: Type of the secret, used to check its keys. Defaults to "Opaque".

SecretList gvk=SecretList
  A page of Secrets.
  .apiVersion string: Schema version of this object.
  .items! Secret[]: The Secrets.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.

Namespace gvk=Namespace
  A scope for names: most objects belong to exactly one namespace.
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "Namespace".
  .metadata meta.ObjectMeta: Name, labels and other identifying data.
  .spec NamespaceSpec: The desired state of the namespace.
  .status NamespaceStatus: The observed state of the namespace.

NamespaceList gvk=NamespaceList
  A page of Namespaces.
  .apiVersion string: Schema version of this object.
  .items! Namespace[]: The Namespaces.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.

NamespaceSpec
  The desired state of a namespace.
  .finalizers string[] list=atomic: Steps that must finish before the namespace is removed.

NamespaceStatus
  The observed state of a namespace.
  .conditions NamespaceCondition[] key=type strategy=merge list=map keys=type: Current
      conditions, mostly about deletion.
  .phase string enum=Active,Terminating: Active, or Terminating while it is being deleted.

NamespaceCondition
  One condition of a namespace.
  .lastTransitionTime Time: When the status last changed.
  .message string: Human-readable detail.
  .reason string: Machine-readable reason.
  .status! string: "True", "False" or "Unknown".
  .type! string: Condition type.

Event gvk=Event
  A report of something that happened to an object, such as a container being started or a
  probe failing.
  .action string: What was done, or what failed.
  .apiVersion string: Schema version of this object; "v1".
  .count integer: How many times this event has occurred.
  .eventTime MicroTime: When the event first occurred, with microseconds.
  .firstTimestamp Time: When the event was first recorded.
  .involvedObject! ObjectReference: The object the event is about.
  .kind string: Type name of this object; "Event".
  .lastTimestamp Time: When the event was most recently recorded.
  .message string: Human-readable description.
  .metadata! meta.ObjectMeta: Name, namespace and other identifying data.
  .reason string: Short machine-readable reason, such as Started or BackOff.
  .related ObjectReference: A second object involved, if any.
  .reportingComponent string: Component that reported the event, such as kubelet.
  .reportingInstance string: Instance of that component, such as the node name.
  .series EventSeries: Data about a series of repeated events.
  .source EventSource: Component and host that reported the event.
  .type string: Normal or Warning.

EventList gvk=EventList
  A page of Events.
  .apiVersion string: Schema version of this object.
  .items! Event[]: The Events.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.

EventSource
  The reporter of an event.
  .component string: Reporting component.
  .host string: Node name of the reporter.

EventSeries
  A run of repeated events.
  .count integer: Occurrences so far.
  .lastObservedTime MicroTime: Time of the last occurrence.

ObjectReference
  A reference to an object, possibly to a field inside it.
  .apiVersion string: API version of the object.
  .fieldPath string: A field inside the object, such as "spec.containers{app}".
  .kind string: Kind of the object.
  .name string: Name of the object.
  .namespace string: Namespace of the object.
  .resourceVersion string: The version of the object that was meant.
  .uid string: UID of the object.

Node gvk=Node
  A machine that runs pods. kubelite serves exactly one.
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "Node".
  .metadata meta.ObjectMeta: Name, labels and other identifying data.
  .spec NodeSpec: How the node should be treated by the scheduler.
  .status NodeStatus: What the node agent last reported about the node.

NodeList gvk=NodeList
  A page of Nodes.
  .apiVersion string: Schema version of this object.
  .items! Node[]: The Nodes.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.

NodeSpec
  Scheduling-related settings of a node.
  .configSource object: Deprecated dynamic configuration source; ignored.
  .externalID string: Deprecated; ignored.
  .podCIDR string: Address range assigned to pods on this node.
  .podCIDRs string[] strategy=merge list=set: Address ranges assigned to pods, one per IP
      family.
  .providerID string: Identifier of the node at its infrastructure provider.
  .taints Taint[] list=atomic: Taints that keep pods without a matching toleration away.
  .unschedulable boolean: If true, no new pods are placed on the node.

Taint
  A mark on a node that repels pods which do not tolerate it.
  .effect! string enum=NoExecute,NoSchedule,PreferNoSchedule: What happens to pods that do not
      tolerate the taint.
  .key! string: Key of the taint.
  .timeAdded Time: When a NoExecute taint was added.
  .value string: Value of the taint.

NodeStatus
  The observed state of a node.
  .addresses NodeAddress[] key=type strategy=merge list=map keys=type: Addresses the node can
      be reached at.
  .allocatable map[Quantity]: Resources available to pods after system reservations.
  .capacity map[Quantity]: Total resources of the node.
  .conditions NodeCondition[] key=type strategy=merge list=map keys=type: Current conditions,
      such as Ready.
  .config object: Status of dynamic configuration; unused.
  .daemonEndpoints NodeDaemonEndpoints: Ports of the daemons running on the node.
  .features object: Optional features the node supports.
  .images ContainerImage[] list=atomic: Images present on the node.
  .nodeInfo NodeSystemInfo: Versions and identifiers of the node's software.
  .phase string: Deprecated lifecycle phase; unset.
  .runtimeHandlers object: Runtime handlers the container runtime offers.
  .volumesAttached object: Volumes attached to the node.
  .volumesInUse string[] list=atomic: Volumes in use on the node.

NodeAddress
  One address of a node.
  .address! string: The address.
  .type! string: Kind of address, such as InternalIP or Hostname.

NodeCondition
  One condition of a node.
  .lastHeartbeatTime Time: When the condition was last reported.
  .lastTransitionTime Time: When the status last changed.
  .message string: Human-readable detail.
  .reason string: Machine-readable reason.
  .status! string: "True", "False" or "Unknown".
  .type! string: Condition type, such as Ready or MemoryPressure.

NodeDaemonEndpoints
  Ports of the daemons on a node.
  .kubeletEndpoint DaemonEndpoint: Where the node agent serves its API.

DaemonEndpoint
  A daemon's port.
  .Port! integer: The port number.

ContainerImage
  An image stored on a node.
  .names string[] list=atomic: References the image is known by.
  .sizeBytes int64: Size of the image.

NodeSystemInfo
  Versions and identifiers reported by a node.
  .architecture! string: CPU architecture, such as amd64.
  .bootID! string: Identifier of the current boot.
  .containerRuntimeVersion! string: Name and version of the container runtime.
  .kernelVersion! string: Kernel release.
  .kubeProxyVersion! string: Deprecated; may be empty.
  .kubeletVersion! string: Version of the node agent.
  .machineID! string: Machine identifier.
  .operatingSystem! string: Operating system, such as linux.
  .osImage! string: Operating system distribution and release.
  .swap object: Swap memory information.
  .systemUUID! string: System UUID.

ServiceAccount gvk=ServiceAccount
  An identity for processes that run in pods.
  .apiVersion string: Schema version of this object; "v1".
  .automountServiceAccountToken boolean: Whether pods using this account get an API token
      mounted by default.
  .imagePullSecrets LocalObjectReference[] list=atomic: Registry credentials added to pods that
      use this account.
  .kind string: Type name of this object; "ServiceAccount".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data.
  .secrets ObjectReference[] key=name strategy=merge list=map keys=name: Secrets pods using
      this account may use.

ServiceAccountList gvk=ServiceAccountList
  A page of ServiceAccounts.
  .apiVersion string: Schema version of this object.
  .items! ServiceAccount[]: The ServiceAccounts.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.

Service gvk=Service
  A stable virtual address, DNS name and set of ports in front of the pods its selector
  matches (or of endpoints someone else maintains).
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "Service".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data.
  .spec ServiceSpec: How the service is exposed and which pods back it.
  .status ServiceStatus: What the cluster reports about the service, such as a load
      balancer's address. Read-only for most clients.

ServiceList gvk=ServiceList
  A page of Services returned by a list request.
  .apiVersion string: Schema version of this object.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.
  .items! Service[]: The services in this page.

ServiceSpec
  The desired behaviour of a service.
  .allocateLoadBalancerNodePorts boolean: For type LoadBalancer: whether node ports are
      allocated for its ports. Defaults to true.
  .clusterIP string: The virtual address of the service, allocated from the service range
      when left empty. "None" makes a headless service: DNS answers with the endpoints'
      addresses directly. Cannot be changed once set, except by switching to ExternalName.
  .clusterIPs string[] list=atomic: The service's cluster addresses, one per IP family; the
      first always equals clusterIP.
  .externalIPs string[] list=atomic: Addresses outside the cluster's ranges on which nodes
      also accept the service's traffic.
  .externalName string: For type ExternalName: the DNS name the service's name is an alias
      (CNAME) for.
  .externalTrafficPolicy string enum=Cluster,Local: For traffic from outside the cluster
      (node ports, load balancers): "Cluster" spreads it over all endpoints, "Local" keeps it on
      endpoints of the receiving node.
  .healthCheckNodePort integer: For type LoadBalancer with externalTrafficPolicy Local: the
      node port answering health checks.
  .internalTrafficPolicy string enum=Cluster,Local: For traffic from inside the cluster:
      "Cluster" uses every endpoint, "Local" only those on the client's node. Defaults to
      Cluster.
  .ipFamilies string[] list=atomic: The IP families (IPv4, IPv6) of the service's cluster
      addresses, in order.
  .ipFamilyPolicy string enum=PreferDualStack,RequireDualStack,SingleStack: How many IP
      families the service asks for. Defaults to SingleStack.
  .loadBalancerClass string: The load balancer implementation meant to serve this service.
  .loadBalancerIP string: Deprecated: an address asked of the load balancer.
  .loadBalancerSourceRanges string[] list=atomic: Client ranges a load balancer should admit.
  .ports ServicePort[] key=port strategy=merge list=map keys=port,protocol: The ports the
      service exposes and where each one leads on the endpoints.
  .publishNotReadyAddresses boolean: Publish endpoints that are not ready yet (in DNS and to
      the proxy), for peers that must find each other before they are ready.
  .selector map[string] maptype=atomic: Labels of the pods that back the service. Without a
      selector the endpoints are maintained by someone else.
  .sessionAffinity string enum=ClientIP,None: "ClientIP" sends a client's connections to the
      same endpoint for a while; "None" spreads them. Defaults to None.
  .sessionAffinityConfig SessionAffinityConfig: Settings of the session affinity.
  .trafficDistribution string: A hint on how traffic should be spread over endpoints.
  .type string enum=ClusterIP,ExternalName,LoadBalancer,NodePort: How the service is exposed:
      ClusterIP (a cluster address only, the default), NodePort (also a port on every node),
      LoadBalancer (also an external load balancer) or ExternalName (a DNS alias, no address).

ServicePort
  One port of a service.
  .appProtocol string: The application protocol spoken on the port, as a hint for
      implementations.
  .name string: Name of the port, a DNS label; required when the service has several ports.
  .nodePort integer: For NodePort and LoadBalancer services: the port opened on every node,
      allocated from the node port range when left empty.
  .port! integer: The port the service answers on, 1 to 65535.
  .protocol string enum=SCTP,TCP,UDP: TCP, UDP or SCTP. Defaults to TCP.
  .targetPort IntOrString: The port on the endpoints the traffic goes to: a number or the
      name of a container port. Defaults to port.

SessionAffinityConfig
  Settings of a service's session affinity.
  .clientIP ClientIPConfig: Settings of ClientIP affinity.

ClientIPConfig
  How long a client keeps its endpoint.
  .timeoutSeconds integer: Seconds a client sticks to its endpoint, 1 to 86400. Defaults to
      10800 (three hours).

ServiceStatus
  What the cluster reports about a service.
  .conditions meta.Condition[] key=type strategy=merge list=map keys=type: Observations of
      the service's state.
  .loadBalancer LoadBalancerStatus: The load balancer's addresses, if any.

LoadBalancerStatus
  A load balancer's addresses.
  .ingress LoadBalancerIngress[] list=atomic: The addresses traffic for the service can be
      sent to.

LoadBalancerIngress
  One address of a load balancer.
  .hostname string: A DNS name of the load balancer.
  .ip string: An IP address of the load balancer.
  .ipMode string enum=Proxy,VIP: How the address relates to the traffic: VIP delivers it with
      the address as destination, Proxy through the load balancer.
  .ports PortStatus[] list=atomic: Status of the load balancer's ports.

PortStatus
  Status of one port of a load balancer.
  .error string: Why the port is not working, if it is not.
  .port! integer: The port number.
  .protocol! string enum=SCTP,TCP,UDP: The port's protocol.

Endpoints gvk=Endpoints
  The addresses that implement a service, grouped in subsets that share ports. Maintained by
  the endpoints controller for services with a selector.
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "Endpoints".
  .metadata meta.ObjectMeta: Name (the service's), namespace, labels and other identifying data.
  .subsets EndpointSubset[] list=atomic: The groups of addresses, each with its ports.

EndpointsList gvk=EndpointsList
  A page of Endpoints returned by a list request.
  .apiVersion string: Schema version of this object.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.
  .items! Endpoints[]: The endpoints objects in this page.

EndpointSubset
  Addresses that all serve the same ports.
  .addresses EndpointAddress[] list=atomic: Addresses that are ready to serve.
  .notReadyAddresses EndpointAddress[] list=atomic: Addresses that are not ready yet.
  .ports EndpointPort[] list=atomic: The ports served on every address of the subset.

EndpointAddress
  One address behind a service.
  .hostname string: The host name of the endpoint, as DNS publishes it.
  .ip! string: The IP address of the endpoint.
  .nodeName string: The node the endpoint runs on.
  .targetRef ObjectReference: The object (usually a pod) that owns the address.

EndpointPort
  One port of a subset.
  .appProtocol string: The application protocol spoken on the port.
  .name string: Name of the port, matching the service port's name.
  .port! integer: The port number.
  .protocol string enum=SCTP,TCP,UDP: TCP, UDP or SCTP. Defaults to TCP.

PersistentVolume gvk=PersistentVolume
  A piece of storage, made by an administrator or by a provisioner, that one claim at a time
  may be bound to. Cluster-scoped.
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "PersistentVolume".
  .metadata meta.ObjectMeta: Name, labels and other identifying data of the volume.
  .spec PersistentVolumeSpec: What the storage is, how much it holds and who may use it.
  .status PersistentVolumeStatus: The volume's phase, written by the persistent-volume
      controller.

PersistentVolumeList gvk=PersistentVolumeList
  A page of PersistentVolumes returned by a list request.
  .apiVersion string: Schema version of this object.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.
  .items! PersistentVolume[]: The volumes in this page.

PersistentVolumeSpec
  The storage a volume stands for. Exactly one source (hostPath, local, nfs, …) is given.
  .accessModes string[] list=atomic: How the volume may be mounted: ReadWriteOnce,
      ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.
  .capacity map[Quantity]: How much it holds, under "storage".
  .claimRef ObjectReference: The claim the volume is bound (or reserved) to.
  .hostPath HostPathVolumeSource: A folder on the node.
  .local LocalVolumeSource: A folder or disk on one node; needs nodeAffinity.
  .mountOptions string[] list=atomic: Mount options, for the sources that take them.
  .nodeAffinity VolumeNodeAffinity: The nodes the volume can be used from.
  .persistentVolumeReclaimPolicy string enum=Delete,Recycle,Retain: What becomes of the volume
      once its claim goes: kept (Retain, the default for volumes made by hand) or deleted.
  .storageClassName string: The class the volume belongs to; only claims of that class bind
      to it. Empty: no class.
  .volumeAttributesClassName string: The VolumeAttributesClass of the volume.
  .volumeMode string enum=Block,Filesystem: A formatted filesystem (the default) or a raw
      block device.
  .awsElasticBlockStore object: A awsElasticBlockStore source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .azureDisk object: A azureDisk source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .azureFile object: A azureFile source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .cephfs object: A cephfs source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .cinder object: A cinder source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .csi object: A csi source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .fc object: A fc source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .flexVolume object: A flexVolume source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .flocker object: A flocker source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .gcePersistentDisk object: A gcePersistentDisk source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .glusterfs object: A glusterfs source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .iscsi object: A iscsi source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .nfs object: A nfs source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .photonPersistentDisk object: A photonPersistentDisk source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .portworxVolume object: A portworxVolume source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .quobyte object: A quobyte source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .rbd object: A rbd source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .scaleIO object: A scaleIO source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .storageos object: A storageos source, kept as data (kubelite mounts only
      hostPath and local volumes).
  .vsphereVolume object: A vsphereVolume source, kept as data (kubelite mounts only
      hostPath and local volumes).

PersistentVolumeStatus
  The observed state of a volume.
  .lastPhaseTransitionTime Time: When the volume last changed phase.
  .message string: Why the volume is in its phase, for people.
  .phase string enum=Available,Bound,Failed,Pending,Released: Pending (new), Available (free),
      Bound (to a claim), Released (its claim is gone) or Failed (its reclaim failed).
  .reason string: Why the volume is in its phase, in one word.

LocalVolumeSource
  A folder or disk on one node.
  .fsType string: The filesystem of a block device.
  .path! string: The full path on the node.

VolumeNodeAffinity
  The nodes a volume can be used from.
  .required NodeSelector: Only nodes this selector matches.

NodeSelector
  A choice of nodes: any of the terms.
  .nodeSelectorTerms! NodeSelectorTerm[] list=atomic: The terms; a node matching one is chosen.

NodeSelectorTerm
  Requirements a node must all meet; an empty term matches no node.
  .matchExpressions NodeSelectorRequirement[] list=atomic: Requirements on the node's labels.
  .matchFields NodeSelectorRequirement[] list=atomic: Requirements on the node's fields
      (metadata.name).

NodeSelectorRequirement
  A label or field of a node compared with values.
  .key! string: The label or field.
  .operator! string enum=DoesNotExist,Exists,Gt,In,Lt,NotIn: How it is compared.
  .values string[] list=atomic: The values (one for Gt and Lt, none for Exists).

PersistentVolumeClaim gvk=PersistentVolumeClaim
  A request for storage, bound by the persistent-volume controller to one PersistentVolume
  that a pod then mounts by the claim's name.
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "PersistentVolumeClaim".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data.
  .spec PersistentVolumeClaimSpec: What the claim asks for.
  .status PersistentVolumeClaimStatus: Whether it is bound, and what it got.

PersistentVolumeClaimList gvk=PersistentVolumeClaimList
  A page of PersistentVolumeClaims returned by a list request.
  .apiVersion string: Schema version of this object.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.
  .items! PersistentVolumeClaim[]: The claims in this page.

PersistentVolumeClaimSpec
  What a claim asks for. Immutable once made, except a bound claim's storage request.
  .accessModes string[] list=atomic: The access modes the volume must offer.
  .dataSource TypedLocalObjectReference: An object to fill the new volume from.
  .dataSourceRef TypedObjectReference: An object to fill the new volume from, possibly in
      another namespace.
  .resources VolumeResourceRequirements: How much storage (requests.storage).
  .selector meta.LabelSelector: Only volumes with these labels.
  .storageClassName string: The class of the volume. Unset: the default class; "": no class.
  .volumeAttributesClassName string: The VolumeAttributesClass to use.
  .volumeMode string enum=Block,Filesystem: A filesystem (the default) or a raw block device.
  .volumeName string: The volume to bind to, by name; set by binding otherwise.

PersistentVolumeClaimStatus
  What a claim got.
  .accessModes string[] list=atomic: The bound volume's access modes.
  .allocatedResourceStatuses map[string]: The state of a resize under way.
  .allocatedResources map[Quantity]: What was allocated to the claim.
  .capacity map[Quantity]: What the bound volume holds.
  .conditions PersistentVolumeClaimCondition[] key=type strategy=merge list=map keys=type:
      The claim's conditions (a resize under way).
  .currentVolumeAttributesClassName string: The VolumeAttributesClass in use.
  .modifyVolumeStatus object: The state of a change of volume attributes.
  .phase string enum=Bound,Lost,Pending: Pending (not bound yet), Bound, or Lost (its volume
      is gone).

PersistentVolumeClaimCondition
  One observation of a claim.
  .lastProbeTime Time: When it was last checked.
  .lastTransitionTime Time: When it last changed.
  .message string: A human-readable account.
  .reason string: A one-word reason.
  .status! string: True, False or Unknown.
  .type! string: The kind of condition.

VolumeResourceRequirements
  How much storage a claim asks for.
  .limits map[Quantity]: At most this much.
  .requests map[Quantity]: At least this much ("storage").

TypedLocalObjectReference
  An object in the same namespace.
  .apiGroup string: Its API group ("" for core).
  .kind! string: Its kind.
  .name! string: Its name.

TypedObjectReference
  An object, possibly in another namespace.
  .apiGroup string: Its API group ("" for core).
  .kind! string: Its kind.
  .name! string: Its name.
  .namespace string: Its namespace.

meta.LabelSelector
  A query over labels: every requirement must hold. Empty selects everything.
  .matchExpressions meta.LabelSelectorRequirement[] list=atomic: Set requirements.
  .matchLabels map[string]: Labels that must be equal.

meta.LabelSelectorRequirement
  A label compared with values.
  .key! string: The label.
  .operator! string: In, NotIn, Exists or DoesNotExist.
  .values string[] list=atomic: The values (none for Exists and DoesNotExist).

meta.Condition
  One observation of an object's state.
  .lastTransitionTime! Time: When the status last changed.
  .message! string: A human-readable account of the condition.
  .observedGeneration int64: The object generation the condition was computed from.
  .reason! string: A one-word reason for the last transition.
  .status! string: True, False or Unknown.
  .type! string: The kind of condition.

meta.ObjectMeta
  Metadata every persisted object has.
  .annotations map[string]: Free-form key/value data for tools; not used for selection.
  .creationTimestamp Time: When the object was created. Set by the server; read-only.
  .deletionGracePeriodSeconds int64: Seconds the object was given to stop when deletion was
      requested. Read-only.
  .deletionTimestamp Time: When the object will be removed; set when deletion is requested.
      Read-only.
  .finalizers string[] strategy=merge list=set: Names of steps that must finish (each removes
      its entry) before a deleted object is really removed.
  .generateName string: Prefix for a name the server makes up when name is empty.
  .generation int64: Counter of changes to the desired state. Set by the server.
  .labels map[string]: Key/value pairs used to organise and select objects.
  .managedFields meta.ManagedFieldsEntry[] list=atomic: Which client manages which fields.
      Maintained by the server.
  .name string: Name of the object, unique in its namespace for its kind. Cannot be changed.
  .namespace string: The namespace the object lives in. Cannot be changed.
  .ownerReferences meta.OwnerReference[] key=uid strategy=merge list=map keys=uid: Objects this
      one depends on; it is garbage-collected when they are all gone.
  .resourceVersion string: Opaque version of the object, used for optimistic concurrency and
      watches. Set by the server.
  .selfLink string: Deprecated and always empty.
  .uid string: Unique identifier of the object for its whole life. Set by the server.

meta.ListMeta
  Metadata of a list response.
  .continue string: Token for fetching the next page; empty on the last page.
  .remainingItemCount int64: Approximate number of items after this page.
  .resourceVersion string: Version of the collection the list was read at.
  .selfLink string: Deprecated and always empty.

meta.OwnerReference
  A reference to an object that owns this one.
  .apiVersion! string: API version of the owner.
  .blockOwnerDeletion boolean: Whether the owner's foreground deletion waits for this object.
  .controller boolean: Whether the owner is the managing controller.
  .kind! string: Kind of the owner.
  .name! string: Name of the owner.
  .uid! string: UID of the owner.

meta.ManagedFieldsEntry
  The set of fields one client manages, as recorded by server-side apply.
  .apiVersion string: API version the fields are written against.
  .fieldsType string: Format of fieldsV1; always "FieldsV1".
  .fieldsV1 object: The managed fields.
  .manager string: Name of the client.
  .operation string: Apply or Update.
  .subresource string: Subresource the fields were written through, if any.
  .time Time: When the fields last changed.

meta.Status gvk=Status
  The result of a request that did not return an object, such as an error.
  .apiVersion string: Schema version of this object.
  .code integer: HTTP status code.
  .details meta.StatusDetails: More information about the failure.
  .kind string: Type name of this object; "Status".
  .message string: Human-readable description.
  .metadata meta.ListMeta: Unused.
  .reason string: Machine-readable reason, such as NotFound or Invalid.
  .status string: "Success" or "Failure".

meta.StatusDetails
  Details of a failed request.
  .causes meta.StatusCause[] list=atomic: The individual problems, for example one per invalid
      field.
  .group string: API group of the object.
  .kind string: Kind of the object.
  .name string: Name of the object.
  .retryAfterSeconds integer: Seconds to wait before retrying.
  .uid string: UID of the object.

ReplicationController gvk=ReplicationController
  The original replica set: keeps a number of identical pods running, selected by a map of
  labels. Kept for old manifests; Deployments and ReplicaSets do the same with more.
  .apiVersion string: Schema version of this object; "v1".
  .kind string: Type name of this object; "ReplicationController".
  .metadata meta.ObjectMeta: Name, namespace, labels and other identifying data.
  .spec ReplicationControllerSpec: How many pods, and which.
  .status ReplicationControllerStatus: What it has, as its manager last saw it.

ReplicationControllerList gvk=ReplicationControllerList
  A page of ReplicationControllers returned by a list request.
  .apiVersion string: Schema version of this object.
  .kind string: Type name of this object.
  .metadata meta.ListMeta: Resource version and continuation token of the list.
  .items! ReplicationController[]: The replication controllers in this page.

ReplicationControllerSpec
  How many copies of a pod to keep, and which pods count.
  .minReadySeconds integer: Seconds a new pod must be ready before it counts as available.
  .replicas integer: Pods wanted. Defaults to 1.
  .selector map[string] maptype=atomic: Labels its pods carry; defaults to the template's.
  .template PodTemplateSpec: The pods to make.

ReplicationControllerStatus
  What a replication controller has.
  .availableReplicas integer: Pods ready for at least minReadySeconds.
  .conditions ReplicationControllerCondition[] key=type strategy=merge list=map keys=type:
      Observations, such as a failure to make or remove pods.
  .fullyLabeledReplicas integer: Pods carrying every label of the template.
  .observedGeneration int64: The generation observed.
  .readyReplicas integer: Ready pods.
  .replicas! integer: Pods it has.

ReplicationControllerCondition
  One observation of a replication controller.
  .lastTransitionTime meta.Time: When its status last changed.
  .message string: A human-readable account.
  .reason string: A one-word reason.
  .status! string: True, False or Unknown.
  .type! string: The kind of observation, such as ReplicaFailure.

PodTemplateSpec
  A pod's labels and spec, from which pods are made.
  .metadata meta.ObjectMeta: The pods' labels and annotations.
  .spec PodSpec: The pods' spec.

meta.StatusCause
  One problem in a failed request.
  .field string: Path of the field at fault, such as spec.containers[0].name.
  .message string: Human-readable description.
  .reason string: Machine-readable cause, such as FieldValueRequired.

meta.DeleteOptions gvk=DeleteOptions
  Options of a delete request.
  .apiVersion string: Schema version of this object.
  .dryRun string[] list=atomic: "All" to go through every step without storing anything.
  .gracePeriodSeconds int64: Seconds the object gets before it is removed; overrides its own
      grace period. 0 means at once.
  .kind string: Type name of this object.
  .orphanDependents boolean: Deprecated; use propagationPolicy.
  .preconditions meta.Preconditions: Conditions the object must meet to be deleted.
  .propagationPolicy string: Whether and how dependents are deleted: Orphan, Background or
      Foreground.

meta.Preconditions
  Conditions checked before a delete.
  .resourceVersion string: The object must have this resource version.
  .uid string: The object must have this UID.

meta.Patch object
  A patch document; its format is given by the request's Content-Type.
"""
