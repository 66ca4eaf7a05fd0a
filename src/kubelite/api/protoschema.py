"""The protobuf messages of the built-in kinds kubectl 1.32 creates with protobuf bodies (data).

client-go's typed clients send built-in kinds as protobuf, so ``kubectl debug --copy-to`` and
``kubectl debug node/…`` (Pod), ``kubectl create deployment|job|cronjob`` (Deployment, Job,
CronJob), ``kubectl drain`` (an Eviction) and a typed delete (DeleteOptions) reach the API that
way. Each message below lists its fields as ``<number> <jsonName> <type>``, read from the
``generated.proto`` files of k8s.io/api and k8s.io/apimachinery v0.32 (the proto names are the
JSON names); ``protomessages`` decodes by it. Status fields are left out: a create ignores them
(but a CertificateSigningRequest's, which ``kubectl certificate approve`` sends to /approval).

Types: ``s`` string, ``i`` integer (int32/int64), ``b`` bool, ``y`` bytes (base64 in JSON),
``q`` Quantity, ``n`` IntOrString, ``t`` Time, ``r`` raw JSON (RawExtension, FieldsV1), ``@key``
a message of this table. Suffixes: ``*`` repeated, ``?`` optional (a Go pointer: a zero value
that was sent is kept), ``^`` inlined into the parent (a Go embedded struct with
``json:",inline"``); ``{t}`` is a map from string to type ``t``. Fields without ``?`` are Go
values, which gogo-protobuf always writes: their zero value means "not set".
"""

from __future__ import annotations

# Envelope kind -> the message of its object.
ROOTS = {
    "Pod": "core.Pod",
    "Deployment": "apps.Deployment",
    "Job": "batch.Job",
    "CronJob": "batch.CronJob",
    "Eviction": "policy.Eviction",
    "DeleteOptions": "meta.DeleteOptions",
    "CertificateSigningRequest": "certificates.CertificateSigningRequest",
}

MESSAGES: dict[str, str] = {
    "core.Pod": "1 metadata @meta.ObjectMeta, 2 spec @core.PodSpec",
    "apps.Deployment": "1 metadata @meta.ObjectMeta, 2 spec @apps.DeploymentSpec",
    "batch.Job": "1 metadata @meta.ObjectMeta, 2 spec @batch.JobSpec",
    "batch.CronJob": "1 metadata @meta.ObjectMeta, 2 spec @batch.CronJobSpec",
    "policy.Eviction": "1 metadata @meta.ObjectMeta, 2 deleteOptions @meta.DeleteOptions?",
    # kubectl certificate approve|deny: a typed UpdateApproval, status included.
    "certificates.CertificateSigningRequest": (
        "1 metadata @meta.ObjectMeta, 2 spec @certificates.CertificateSigningRequestSpec, "
        "3 status @certificates.CertificateSigningRequestStatus"
    ),
    "certificates.CertificateSigningRequestSpec": (
        "1 request y, 7 signerName s, 8 expirationSeconds i?, 5 usages s*, 2 username s, "
        "3 uid s, 4 groups s*, 6 extra {@certificates.ExtraValue}"
    ),
    "certificates.ExtraValue": "1 items s*",
    "certificates.CertificateSigningRequestStatus": (
        "1 conditions @certificates.CertificateSigningRequestCondition*, 2 certificate y"
    ),
    "certificates.CertificateSigningRequestCondition": (
        "1 type s, 6 status s, 2 reason s, 3 message s, 4 lastUpdateTime t, 5 lastTransitionTime t"
    ),
    "meta.DeleteOptions": (
        "1 gracePeriodSeconds i?, 2 preconditions @meta.Preconditions?, "
        "3 orphanDependents b?, 4 propagationPolicy s?, 5 dryRun s*, "
        "6 ignoreStoreReadErrorWithClusterBreakingPotential b?"
    ),
    "meta.ObjectMeta": (
        "1 name s, 2 generateName s, 3 namespace s, 4 selfLink s, 5 uid s, "
        "6 resourceVersion s, 7 generation i, 8 creationTimestamp t, "
        "9 deletionTimestamp t?, 10 deletionGracePeriodSeconds i?, 11 labels {s}, "
        "12 annotations {s}, 13 ownerReferences @meta.OwnerReference*, "
        "14 finalizers s*, 17 managedFields @meta.ManagedFieldsEntry*"
    ),
    "core.PodSpec": (
        "1 volumes @core.Volume*, 2 containers @core.Container*, 3 restartPolicy s, "
        "4 terminationGracePeriodSeconds i?, 5 activeDeadlineSeconds i?, "
        "6 dnsPolicy s, 7 nodeSelector {s}, 8 serviceAccountName s, "
        "9 serviceAccount s, 10 nodeName s, 11 hostNetwork b, 12 hostPID b, "
        "13 hostIPC b, 14 securityContext @core.PodSecurityContext?, "
        "15 imagePullSecrets @core.LocalObjectReference*, 16 hostname s, "
        "17 subdomain s, 18 affinity @core.Affinity?, 19 schedulerName s, "
        "20 initContainers @core.Container*, 21 automountServiceAccountToken b?, "
        "22 tolerations @core.Toleration*, 23 hostAliases @core.HostAlias*, "
        "24 priorityClassName s, 25 priority i?, 26 dnsConfig @core.PodDNSConfig?, "
        "27 shareProcessNamespace b?, 28 readinessGates @core.PodReadinessGate*, "
        "29 runtimeClassName s?, 30 enableServiceLinks b?, 31 preemptionPolicy s?, "
        "32 overhead {q}, "
        "33 topologySpreadConstraints @core.TopologySpreadConstraint*, "
        "34 ephemeralContainers @core.EphemeralContainer*, 35 setHostnameAsFQDN b?, "
        "36 os @core.PodOS?, 37 hostUsers b?, "
        "38 schedulingGates @core.PodSchedulingGate*, "
        "39 resourceClaims @core.PodResourceClaim*, "
        "40 resources @core.ResourceRequirements?"
    ),
    "apps.DeploymentSpec": (
        "1 replicas i?, 2 selector @meta.LabelSelector?, "
        "3 template @core.PodTemplateSpec, 4 strategy @apps.DeploymentStrategy, "
        "5 minReadySeconds i, 6 revisionHistoryLimit i?, 7 paused b, "
        "9 progressDeadlineSeconds i?"
    ),
    "batch.JobSpec": (
        "1 parallelism i?, 2 completions i?, 3 activeDeadlineSeconds i?, "
        "4 selector @meta.LabelSelector?, 5 manualSelector b?, "
        "6 template @core.PodTemplateSpec, 7 backoffLimit i?, "
        "8 ttlSecondsAfterFinished i?, 9 completionMode s?, 10 suspend b?, "
        "11 podFailurePolicy @batch.PodFailurePolicy?, 12 backoffLimitPerIndex i?, "
        "13 maxFailedIndexes i?, 14 podReplacementPolicy s?, 15 managedBy s?, "
        "16 successPolicy @batch.SuccessPolicy?"
    ),
    "batch.CronJobSpec": (
        "1 schedule s, 2 startingDeadlineSeconds i?, 3 concurrencyPolicy s, "
        "4 suspend b?, 5 jobTemplate @batch.JobTemplateSpec, "
        "6 successfulJobsHistoryLimit i?, 7 failedJobsHistoryLimit i?, "
        "8 timeZone s?"
    ),
    "meta.Preconditions": "1 uid s?, 2 resourceVersion s?",
    "meta.OwnerReference": (
        "1 kind s, 3 name s, 4 uid s, 5 apiVersion s, 6 controller b?, 7 blockOwnerDeletion b?"
    ),
    "meta.ManagedFieldsEntry": (
        "1 manager s, 2 operation s, 3 apiVersion s, 4 time t?, "
        "6 fieldsType s, 7 fieldsV1 r?, 8 subresource s"
    ),
    "core.Volume": "1 name s, 2 volumeSource @core.VolumeSource^",
    "core.Container": (
        "1 name s, 2 image s, 3 command s*, 4 args s*, 5 workingDir s, "
        "6 ports @core.ContainerPort*, 7 env @core.EnvVar*, "
        "8 resources @core.ResourceRequirements, 9 volumeMounts @core.VolumeMount*, "
        "10 livenessProbe @core.Probe?, 11 readinessProbe @core.Probe?, "
        "12 lifecycle @core.Lifecycle?, 13 terminationMessagePath s, "
        "14 imagePullPolicy s, 15 securityContext @core.SecurityContext?, "
        "16 stdin b, 17 stdinOnce b, 18 tty b, 19 envFrom @core.EnvFromSource*, "
        "20 terminationMessagePolicy s, 21 volumeDevices @core.VolumeDevice*, "
        "22 startupProbe @core.Probe?, 23 resizePolicy @core.ContainerResizePolicy*, "
        "24 restartPolicy s?"
    ),
    "core.PodSecurityContext": (
        "1 seLinuxOptions @core.SELinuxOptions?, 2 runAsUser i?, "
        "3 runAsNonRoot b?, 4 supplementalGroups i*, 5 fsGroup i?, "
        "6 runAsGroup i?, 7 sysctls @core.Sysctl*, "
        "8 windowsOptions @core.WindowsSecurityContextOptions?, "
        "9 fsGroupChangePolicy s?, 10 seccompProfile @core.SeccompProfile?, "
        "11 appArmorProfile @core.AppArmorProfile?, "
        "12 supplementalGroupsPolicy s?, 13 seLinuxChangePolicy s?"
    ),
    "core.LocalObjectReference": "1 name s",
    "core.Affinity": (
        "1 nodeAffinity @core.NodeAffinity?, 2 podAffinity @core.PodAffinity?, "
        "3 podAntiAffinity @core.PodAntiAffinity?"
    ),
    "core.Toleration": "1 key s, 2 operator s, 3 value s, 4 effect s, 5 tolerationSeconds i?",
    "core.HostAlias": "1 ip s, 2 hostnames s*",
    "core.PodDNSConfig": "1 nameservers s*, 2 searches s*, 3 options @core.PodDNSConfigOption*",
    "core.PodReadinessGate": "1 conditionType s",
    "core.TopologySpreadConstraint": (
        "1 maxSkew i, 2 topologyKey s, 3 whenUnsatisfiable s, "
        "4 labelSelector @meta.LabelSelector?, 5 minDomains i?, "
        "6 nodeAffinityPolicy s?, 7 nodeTaintsPolicy s?, "
        "8 matchLabelKeys s*"
    ),
    "core.EphemeralContainer": (
        "1 ephemeralContainerCommon @core.EphemeralContainerCommon^, 2 targetContainerName s"
    ),
    "core.PodOS": "1 name s",
    "core.PodSchedulingGate": "1 name s",
    "core.PodResourceClaim": "1 name s, 3 resourceClaimName s?, 4 resourceClaimTemplateName s?",
    "core.ResourceRequirements": "1 limits {q}, 2 requests {q}, 3 claims @core.ResourceClaim*",
    "meta.LabelSelector": "1 matchLabels {s}, 2 matchExpressions @meta.LabelSelectorRequirement*",
    "core.PodTemplateSpec": "1 metadata @meta.ObjectMeta, 2 spec @core.PodSpec",
    "apps.DeploymentStrategy": "1 type s, 2 rollingUpdate @apps.RollingUpdateDeployment?",
    "batch.PodFailurePolicy": "1 rules @batch.PodFailurePolicyRule*",
    "batch.SuccessPolicy": "1 rules @batch.SuccessPolicyRule*",
    "batch.JobTemplateSpec": "1 metadata @meta.ObjectMeta, 2 spec @batch.JobSpec",
    "core.VolumeSource": (
        "1 hostPath @core.HostPathVolumeSource?, "
        "2 emptyDir @core.EmptyDirVolumeSource?, "
        "3 gcePersistentDisk @core.GCEPersistentDiskVolumeSource?, "
        "4 awsElasticBlockStore @core.AWSElasticBlockStoreVolumeSource?, "
        "5 gitRepo @core.GitRepoVolumeSource?, "
        "6 secret @core.SecretVolumeSource?, 7 nfs @core.NFSVolumeSource?, "
        "8 iscsi @core.ISCSIVolumeSource?, "
        "9 glusterfs @core.GlusterfsVolumeSource?, "
        "10 persistentVolumeClaim @core.PersistentVolumeClaimVolumeSource?, "
        "11 rbd @core.RBDVolumeSource?, 12 flexVolume @core.FlexVolumeSource?, "
        "13 cinder @core.CinderVolumeSource?, "
        "14 cephfs @core.CephFSVolumeSource?, "
        "15 flocker @core.FlockerVolumeSource?, "
        "16 downwardAPI @core.DownwardAPIVolumeSource?, "
        "17 fc @core.FCVolumeSource?, 18 azureFile @core.AzureFileVolumeSource?, "
        "19 configMap @core.ConfigMapVolumeSource?, "
        "20 vsphereVolume @core.VsphereVirtualDiskVolumeSource?, "
        "21 quobyte @core.QuobyteVolumeSource?, "
        "22 azureDisk @core.AzureDiskVolumeSource?, "
        "23 photonPersistentDisk @core.PhotonPersistentDiskVolumeSource?, "
        "24 portworxVolume @core.PortworxVolumeSource?, "
        "25 scaleIO @core.ScaleIOVolumeSource?, "
        "26 projected @core.ProjectedVolumeSource?, "
        "27 storageos @core.StorageOSVolumeSource?, "
        "28 csi @core.CSIVolumeSource?, "
        "29 ephemeral @core.EphemeralVolumeSource?, "
        "30 image @core.ImageVolumeSource?"
    ),
    "core.ContainerPort": "1 name s, 2 hostPort i, 3 containerPort i, 4 protocol s, 5 hostIP s",
    "core.EnvVar": "1 name s, 2 value s, 3 valueFrom @core.EnvVarSource?",
    "core.VolumeMount": (
        "1 name s, 2 readOnly b, 3 mountPath s, 4 subPath s, "
        "5 mountPropagation s?, 6 subPathExpr s, 7 recursiveReadOnly s?"
    ),
    "core.Probe": (
        "1 handler @core.ProbeHandler^, 2 initialDelaySeconds i, 3 timeoutSeconds i, "
        "4 periodSeconds i, 5 successThreshold i, 6 failureThreshold i, "
        "7 terminationGracePeriodSeconds i?"
    ),
    "core.Lifecycle": "1 postStart @core.LifecycleHandler?, 2 preStop @core.LifecycleHandler?",
    "core.SecurityContext": (
        "1 capabilities @core.Capabilities?, 2 privileged b?, "
        "3 seLinuxOptions @core.SELinuxOptions?, 4 runAsUser i?, "
        "5 runAsNonRoot b?, 6 readOnlyRootFilesystem b?, "
        "7 allowPrivilegeEscalation b?, 8 runAsGroup i?, 9 procMount s?, "
        "10 windowsOptions @core.WindowsSecurityContextOptions?, "
        "11 seccompProfile @core.SeccompProfile?, "
        "12 appArmorProfile @core.AppArmorProfile?"
    ),
    "core.EnvFromSource": (
        "1 prefix s, 2 configMapRef @core.ConfigMapEnvSource?, 3 secretRef @core.SecretEnvSource?"
    ),
    "core.VolumeDevice": "1 name s, 2 devicePath s",
    "core.ContainerResizePolicy": "1 resourceName s, 2 restartPolicy s",
    "core.SELinuxOptions": "1 user s, 2 role s, 3 type s, 4 level s",
    "core.Sysctl": "1 name s, 2 value s",
    "core.WindowsSecurityContextOptions": (
        "1 gmsaCredentialSpecName s?, 2 gmsaCredentialSpec s?, 3 runAsUserName s?, 4 hostProcess b?"
    ),
    "core.SeccompProfile": "1 type s, 2 localhostProfile s?",
    "core.AppArmorProfile": "1 type s, 2 localhostProfile s?",
    "core.NodeAffinity": (
        "1 requiredDuringSchedulingIgnoredDuringExecution @core.NodeSelector?, "
        "2 preferredDuringSchedulingIgnoredDuringExecution @core.PreferredSchedulingTerm*"
    ),
    "core.PodAffinity": (
        "1 requiredDuringSchedulingIgnoredDuringExecution @core.PodAffinityTerm*, "
        "2 preferredDuringSchedulingIgnoredDuringExecution @core.WeightedPodAffinityTerm*"
    ),
    "core.PodAntiAffinity": (
        "1 requiredDuringSchedulingIgnoredDuringExecution @core.PodAffinityTerm*, "
        "2 preferredDuringSchedulingIgnoredDuringExecution @core.WeightedPodAffinityTerm*"
    ),
    "core.PodDNSConfigOption": "1 name s, 2 value s?",
    "core.EphemeralContainerCommon": (
        "1 name s, 2 image s, 3 command s*, 4 args s*, "
        "5 workingDir s, 6 ports @core.ContainerPort*, "
        "7 env @core.EnvVar*, 8 resources @core.ResourceRequirements, "
        "9 volumeMounts @core.VolumeMount*, "
        "10 livenessProbe @core.Probe?, "
        "11 readinessProbe @core.Probe?, "
        "12 lifecycle @core.Lifecycle?, 13 terminationMessagePath s, "
        "14 imagePullPolicy s, "
        "15 securityContext @core.SecurityContext?, 16 stdin b, "
        "17 stdinOnce b, 18 tty b, 19 envFrom @core.EnvFromSource*, "
        "20 terminationMessagePolicy s, "
        "21 volumeDevices @core.VolumeDevice*, "
        "22 startupProbe @core.Probe?, "
        "23 resizePolicy @core.ContainerResizePolicy*, "
        "24 restartPolicy s?"
    ),
    "core.ResourceClaim": "1 name s, 2 request s",
    "meta.LabelSelectorRequirement": "1 key s, 2 operator s, 3 values s*",
    "apps.RollingUpdateDeployment": "1 maxUnavailable n?, 2 maxSurge n?",
    "batch.PodFailurePolicyRule": (
        "1 action s, "
        "2 onExitCodes @batch.PodFailurePolicyOnExitCodesRequirement?, "
        "3 onPodConditions @batch.PodFailurePolicyOnPodConditionsPattern*"
    ),
    "batch.SuccessPolicyRule": "1 succeededIndexes s?, 2 succeededCount i?",
    "core.HostPathVolumeSource": "1 path s, 2 type s?",
    "core.EmptyDirVolumeSource": "1 medium s, 2 sizeLimit q?",
    "core.GCEPersistentDiskVolumeSource": "1 pdName s, 2 fsType s, 3 partition i, 4 readOnly b",
    "core.AWSElasticBlockStoreVolumeSource": (
        "1 volumeID s, 2 fsType s, 3 partition i, 4 readOnly b"
    ),
    "core.GitRepoVolumeSource": "1 repository s, 2 revision s, 3 directory s",
    "core.SecretVolumeSource": (
        "1 secretName s, 2 items @core.KeyToPath*, 3 defaultMode i?, 4 optional b?"
    ),
    "core.NFSVolumeSource": "1 server s, 2 path s, 3 readOnly b",
    "core.ISCSIVolumeSource": (
        "1 targetPortal s, 2 iqn s, 3 lun i, 4 iscsiInterface s, 5 fsType s, "
        "6 readOnly b, 7 portals s*, 8 chapAuthDiscovery b, "
        "10 secretRef @core.LocalObjectReference?, 11 chapAuthSession b, "
        "12 initiatorName s?"
    ),
    "core.GlusterfsVolumeSource": "1 endpoints s, 2 path s, 3 readOnly b",
    "core.PersistentVolumeClaimVolumeSource": "1 claimName s, 2 readOnly b",
    "core.RBDVolumeSource": (
        "1 monitors s*, 2 image s, 3 fsType s, 4 pool s, 5 user s, "
        "6 keyring s, 7 secretRef @core.LocalObjectReference?, 8 readOnly b"
    ),
    "core.FlexVolumeSource": (
        "1 driver s, 2 fsType s, 3 secretRef @core.LocalObjectReference?, "
        "4 readOnly b, 5 options {s}"
    ),
    "core.CinderVolumeSource": (
        "1 volumeID s, 2 fsType s, 3 readOnly b, 4 secretRef @core.LocalObjectReference?"
    ),
    "core.CephFSVolumeSource": (
        "1 monitors s*, 2 path s, 3 user s, 4 secretFile s, "
        "5 secretRef @core.LocalObjectReference?, 6 readOnly b"
    ),
    "core.FlockerVolumeSource": "1 datasetName s, 2 datasetUUID s",
    "core.DownwardAPIVolumeSource": "1 items @core.DownwardAPIVolumeFile*, 2 defaultMode i?",
    "core.FCVolumeSource": "1 targetWWNs s*, 2 lun i?, 3 fsType s, 4 readOnly b, 5 wwids s*",
    "core.AzureFileVolumeSource": "1 secretName s, 2 shareName s, 3 readOnly b",
    "core.ConfigMapVolumeSource": (
        "1 localObjectReference @core.LocalObjectReference^, "
        "2 items @core.KeyToPath*, 3 defaultMode i?, 4 optional b?"
    ),
    "core.VsphereVirtualDiskVolumeSource": (
        "1 volumePath s, 2 fsType s, 3 storagePolicyName s, 4 storagePolicyID s"
    ),
    "core.QuobyteVolumeSource": (
        "1 registry s, 2 volume s, 3 readOnly b, 4 user s, 5 group s, 6 tenant s"
    ),
    "core.AzureDiskVolumeSource": (
        "1 diskName s, 2 diskURI s, 3 cachingMode s?, 4 fsType s?, 5 readOnly b?, 6 kind s?"
    ),
    "core.PhotonPersistentDiskVolumeSource": "1 pdID s, 2 fsType s",
    "core.PortworxVolumeSource": "1 volumeID s, 2 fsType s, 3 readOnly b",
    "core.ScaleIOVolumeSource": (
        "1 gateway s, 2 system s, 3 secretRef @core.LocalObjectReference?, "
        "4 sslEnabled b, 5 protectionDomain s, 6 storagePool s, "
        "7 storageMode s, 8 volumeName s, 9 fsType s, 10 readOnly b"
    ),
    "core.ProjectedVolumeSource": "1 sources @core.VolumeProjection*, 2 defaultMode i?",
    "core.StorageOSVolumeSource": (
        "1 volumeName s, 2 volumeNamespace s, 3 fsType s, 4 readOnly b, "
        "5 secretRef @core.LocalObjectReference?"
    ),
    "core.CSIVolumeSource": (
        "1 driver s, 2 readOnly b?, 3 fsType s?, 4 volumeAttributes {s}, "
        "5 nodePublishSecretRef @core.LocalObjectReference?"
    ),
    "core.EphemeralVolumeSource": "1 volumeClaimTemplate @core.PersistentVolumeClaimTemplate?",
    "core.ImageVolumeSource": "1 reference s, 2 pullPolicy s",
    "core.EnvVarSource": (
        "1 fieldRef @core.ObjectFieldSelector?, "
        "2 resourceFieldRef @core.ResourceFieldSelector?, "
        "3 configMapKeyRef @core.ConfigMapKeySelector?, "
        "4 secretKeyRef @core.SecretKeySelector?"
    ),
    "core.ProbeHandler": (
        "1 exec @core.ExecAction?, 2 httpGet @core.HTTPGetAction?, "
        "3 tcpSocket @core.TCPSocketAction?, 4 grpc @core.GRPCAction?"
    ),
    "core.LifecycleHandler": (
        "1 exec @core.ExecAction?, 2 httpGet @core.HTTPGetAction?, "
        "3 tcpSocket @core.TCPSocketAction?, 4 sleep @core.SleepAction?"
    ),
    "core.Capabilities": "1 add s*, 2 drop s*",
    "core.ConfigMapEnvSource": "1 localObjectReference @core.LocalObjectReference^, 2 optional b?",
    "core.SecretEnvSource": "1 localObjectReference @core.LocalObjectReference^, 2 optional b?",
    "core.NodeSelector": "1 nodeSelectorTerms @core.NodeSelectorTerm*",
    "core.PreferredSchedulingTerm": "1 weight i, 2 preference @core.NodeSelectorTerm",
    "core.PodAffinityTerm": (
        "1 labelSelector @meta.LabelSelector?, 2 namespaces s*, "
        "3 topologyKey s, 4 namespaceSelector @meta.LabelSelector?, "
        "5 matchLabelKeys s*, 6 mismatchLabelKeys s*"
    ),
    "core.WeightedPodAffinityTerm": "1 weight i, 2 podAffinityTerm @core.PodAffinityTerm",
    "batch.PodFailurePolicyOnExitCodesRequirement": (
        "1 containerName s?, 2 operator s, 3 values i*"
    ),
    "batch.PodFailurePolicyOnPodConditionsPattern": "1 type s, 2 status s",
    "core.KeyToPath": "1 key s, 2 path s, 3 mode i?",
    "core.DownwardAPIVolumeFile": (
        "1 path s, 2 fieldRef @core.ObjectFieldSelector?, "
        "3 resourceFieldRef @core.ResourceFieldSelector?, 4 mode i?"
    ),
    "core.VolumeProjection": (
        "1 secret @core.SecretProjection?, "
        "2 downwardAPI @core.DownwardAPIProjection?, "
        "3 configMap @core.ConfigMapProjection?, "
        "4 serviceAccountToken @core.ServiceAccountTokenProjection?, "
        "5 clusterTrustBundle @core.ClusterTrustBundleProjection?"
    ),
    "core.PersistentVolumeClaimTemplate": (
        "1 metadata @meta.ObjectMeta, 2 spec @core.PersistentVolumeClaimSpec"
    ),
    "core.ObjectFieldSelector": "1 apiVersion s, 2 fieldPath s",
    "core.ResourceFieldSelector": "1 containerName s, 2 resource s, 3 divisor q",
    "core.ConfigMapKeySelector": (
        "1 localObjectReference @core.LocalObjectReference^, 2 key s, 3 optional b?"
    ),
    "core.SecretKeySelector": (
        "1 localObjectReference @core.LocalObjectReference^, 2 key s, 3 optional b?"
    ),
    "core.ExecAction": "1 command s*",
    "core.HTTPGetAction": (
        "1 path s, 2 port n, 3 host s, 4 scheme s, 5 httpHeaders @core.HTTPHeader*"
    ),
    "core.TCPSocketAction": "1 port n, 2 host s",
    "core.GRPCAction": "1 port i, 2 service s?",
    "core.SleepAction": "1 seconds i",
    "core.NodeSelectorTerm": (
        "1 matchExpressions @core.NodeSelectorRequirement*, "
        "2 matchFields @core.NodeSelectorRequirement*"
    ),
    "core.SecretProjection": (
        "1 localObjectReference @core.LocalObjectReference^, "
        "2 items @core.KeyToPath*, 4 optional b?"
    ),
    "core.DownwardAPIProjection": "1 items @core.DownwardAPIVolumeFile*",
    "core.ConfigMapProjection": (
        "1 localObjectReference @core.LocalObjectReference^, "
        "2 items @core.KeyToPath*, 4 optional b?"
    ),
    "core.ServiceAccountTokenProjection": "1 audience s, 2 expirationSeconds i?, 3 path s",
    "core.ClusterTrustBundleProjection": (
        "1 name s?, 2 signerName s?, 3 labelSelector @meta.LabelSelector?, 4 path s, 5 optional b?"
    ),
    "core.PersistentVolumeClaimSpec": (
        "1 accessModes s*, "
        "2 resources @core.VolumeResourceRequirements, "
        "3 volumeName s, 4 selector @meta.LabelSelector?, "
        "5 storageClassName s?, 6 volumeMode s?, "
        "7 dataSource @core.TypedLocalObjectReference?, "
        "8 dataSourceRef @core.TypedObjectReference?, "
        "9 volumeAttributesClassName s?"
    ),
    "core.HTTPHeader": "1 name s, 2 value s",
    "core.NodeSelectorRequirement": "1 key s, 2 operator s, 3 values s*",
    "core.VolumeResourceRequirements": "1 limits {q}, 2 requests {q}",
    "core.TypedLocalObjectReference": "1 apiGroup s?, 2 kind s, 3 name s",
    "core.TypedObjectReference": "1 apiGroup s?, 2 kind s, 3 name s, 4 namespace s?",
}
