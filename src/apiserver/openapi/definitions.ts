/**
 * The definitions of the kinds podyard serves (core/v1 Pod and all it holds, Event, Node,
 * Namespace, Secret, ConfigMap, ServiceAccount; events.k8s.io/v1 Event; coordination.k8s.io/v1
 * Lease; meta/v1 ObjectMeta). Field names, list types, merge keys and strategies follow
 * k8s.io/api; the descriptions are podyard's own.
 */
import type { Definition, Field, FieldType, ListType } from "./model.js";

const CORE = "io.k8s.api.core.v1.";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";

type Spec = Record<string, [FieldType, string]>;
const DEFS = new Map<string, Definition>();

function def(name: string, description: string, spec: Spec, opts: { required?: string[]; gvk?: Definition["gvk"] } = {}): void {
  const fields: Record<string, Field> = {};
  for (const [k, [type, d]] of Object.entries(spec)) fields[k] = { type, description: d };
  DEFS.set(name, { name, description, fields, ...opts });
}

const ref = (n: string): FieldType => `#${n.includes(".") ? n : CORE + n}`;
const mref = (n: string): FieldType => `#${META}${n}`;
const atomic = (t: FieldType): ListType => ({ list: t, listType: "atomic" });
const keyed = (t: FieldType, key: string, opts: Partial<ListType> = {}): ListType =>
  ({ list: t, listType: "map", keys: [key], mergeKey: key, strategy: "merge", ...opts });
const set = (opts: Partial<ListType> = {}): ListType => ({ list: "string", listType: "set", ...opts });
const strMap: FieldType = { map: "string" };
const resList: FieldType = { map: "quantity" };

// meta/v1
def(`${META}ObjectMeta`, "Metadata every stored object has: its name, namespace, labels and what the server records about it.", {
  name: ["string", "The object's name, unique within its namespace for its kind. Cannot be changed."],
  generateName: ["string", "A prefix the server completes with random characters when name is empty."],
  namespace: ["string", "The namespace the object lives in; empty for cluster-scoped kinds."],
  uid: ["string", "A unique id the server assigns at creation. Read-only."],
  resourceVersion: ["string", "The storage revision of the object's last write, used for optimistic concurrency and watches. Read-only."],
  generation: ["integer", "A number the server raises on every change of the desired state. Read-only."],
  creationTimestamp: ["time", "When the object was created. Read-only."],
  deletionTimestamp: ["time", "When the object will be removed; set once a graceful delete was asked for. Read-only."],
  deletionGracePeriodSeconds: ["integer", "Seconds the object was given to terminate gracefully. Read-only."],
  labels: [strMap, "Key/value pairs to organise and select objects."],
  annotations: [strMap, "Key/value pairs for tools and people; not used for selection."],
  ownerReferences: [keyed(mref("OwnerReference"), "uid"), "Objects this one depends on; it is garbage-collected when they are gone."],
  finalizers: [set({ mergeKey: undefined, strategy: "merge" }), "Names of cleanups that must finish before the object is removed."],
  managedFields: [atomic(mref("ManagedFieldsEntry")), "Which field manager owns which fields (server-side apply)."],
  selfLink: ["string", "Deprecated and unset."],
});
def(`${META}OwnerReference`, "A reference to an object that owns this one.", {
  apiVersion: ["string", "API version of the owner."], kind: ["string", "Kind of the owner."], name: ["string", "Name of the owner."],
  uid: ["string", "UID of the owner."], controller: ["boolean", "Whether the owner is the managing controller."],
  blockOwnerDeletion: ["boolean", "Whether the owner cannot be deleted before this object."],
}, { required: ["apiVersion", "kind", "name", "uid"] });
def(`${META}ManagedFieldsEntry`, "The fields one manager owns, and how it last wrote them.", {
  manager: ["string", "Name of the field manager."], operation: ["string", "Apply or Update."], apiVersion: ["string", "Version of the fields."],
  time: ["time", "When the manager last changed its fields."], fieldsType: ["string", "Always FieldsV1."],
  fieldsV1: ["fieldsV1", "The owned fields as a trie of f:, k:, v: and i: keys."], subresource: ["string", "The subresource written through, if any."],
});

// core/v1 pod spec parts
def(CORE + "LocalObjectReference", "A reference to an object in the same namespace, by name.", { name: ["string", "Name of the referenced object."] });
def(CORE + "ObjectFieldSelector", "Selects a field of the pod.", {
  apiVersion: ["string", "Version the field path is written in; defaults to v1."], fieldPath: ["string", "Path of the field, e.g. metadata.name."],
}, { required: ["fieldPath"] });
def(CORE + "ResourceFieldSelector", "Selects a resource limit or request of a container.", {
  containerName: ["string", "The container; required for volumes."], resource: ["string", "The resource, e.g. limits.cpu."],
  divisor: ["quantity", "The unit the value is shown in; defaults to 1."],
}, { required: ["resource"] });
def(CORE + "ConfigMapKeySelector", "Selects one key of a ConfigMap.", {
  name: ["string", "Name of the ConfigMap."], key: ["string", "The key to read."], optional: ["boolean", "Whether a missing ConfigMap or key is fine."],
}, { required: ["key"] });
def(CORE + "SecretKeySelector", "Selects one key of a Secret.", {
  name: ["string", "Name of the Secret."], key: ["string", "The key to read."], optional: ["boolean", "Whether a missing Secret or key is fine."],
}, { required: ["key"] });
def(CORE + "EnvVarSource", "Where an environment variable's value comes from.", {
  fieldRef: [ref("ObjectFieldSelector"), "A field of the pod."], resourceFieldRef: [ref("ResourceFieldSelector"), "A container resource."],
  configMapKeyRef: [ref("ConfigMapKeySelector"), "A key of a ConfigMap."], secretKeyRef: [ref("SecretKeySelector"), "A key of a Secret."],
});
def(CORE + "EnvVar", "An environment variable of a container.", {
  name: ["string", "Name of the variable."],
  value: ["string", "The value; $(VAR) references to earlier variables are expanded, $$ escapes."],
  valueFrom: [ref("EnvVarSource"), "Where the value comes from, instead of value."],
}, { required: ["name"] });
def(CORE + "ConfigMapEnvSource", "A ConfigMap whose keys become environment variables.", {
  name: ["string", "Name of the ConfigMap."], optional: ["boolean", "Whether a missing ConfigMap is fine."],
});
def(CORE + "SecretEnvSource", "A Secret whose keys become environment variables.", {
  name: ["string", "Name of the Secret."], optional: ["boolean", "Whether a missing Secret is fine."],
});
def(CORE + "EnvFromSource", "A source of many environment variables.", {
  prefix: ["string", "A prefix put before every key."], configMapRef: [ref("ConfigMapEnvSource"), "The ConfigMap to read."],
  secretRef: [ref("SecretEnvSource"), "The Secret to read."],
});
def(CORE + "ContainerPort", "A network port a container listens on.", {
  name: ["string", "An IANA_SVC_NAME for the port, unique in the pod."],
  hostPort: ["integer", "The port on the host to expose it on; mostly unneeded."],
  containerPort: ["integer", "The port number, between 1 and 65535."],
  protocol: ["string", "TCP, UDP or SCTP; defaults to TCP."],
  hostIP: ["string", "The host IP to bind the host port to."],
}, { required: ["containerPort"] });
def(CORE + "ResourceClaim", "A resource claim a container uses.", { name: ["string", "Name of the claim."], request: ["string", "The request within the claim."] }, { required: ["name"] });
def(CORE + "ResourceRequirements", "Compute resources a container asks for and may not exceed.", {
  limits: [resList, "The most of each resource the container may use."],
  requests: [resList, "The least of each resource the container needs; defaults to the limits."],
  claims: [keyed(ref("ResourceClaim"), "name", { mergeKey: undefined, strategy: undefined }), "Dynamic resource claims the container uses."],
});
def(CORE + "VolumeMount", "Where a volume appears in a container's filesystem.", {
  name: ["string", "The volume, by its name in the pod's volumes."], readOnly: ["boolean", "Mount it read-only."],
  recursiveReadOnly: ["string", "Whether read-only applies to submounts too."], mountPath: ["string", "The path in the container; must not contain ':'."],
  subPath: ["string", "A path inside the volume to mount instead of its root."],
  mountPropagation: ["string", "None, HostToContainer or Bidirectional."],
  subPathExpr: ["string", "Like subPath, with $(VAR) expanded from the container's environment."],
}, { required: ["name", "mountPath"] });
def(CORE + "VolumeDevice", "A raw block device in a container.", { name: ["string", "The volume."], devicePath: ["string", "The device path in the container."] }, { required: ["name", "devicePath"] });
def(CORE + "ExecAction", "Run a command in the container.", { command: [atomic("string"), "The command and its arguments; not run in a shell. Exit 0 is success."] });
def(CORE + "HTTPHeader", "An HTTP header.", { name: ["string", "Header name."], value: ["string", "Header value."] }, { required: ["name", "value"] });
def(CORE + "HTTPGetAction", "An HTTP GET request.", {
  path: ["string", "The path to request; defaults to /."], port: ["intOrString", "Port number or name."],
  host: ["string", "Host to connect to; defaults to the pod IP."], scheme: ["string", "HTTP or HTTPS; defaults to HTTP."],
  httpHeaders: [atomic(ref("HTTPHeader")), "Extra request headers."],
}, { required: ["port"] });
def(CORE + "TCPSocketAction", "A TCP connection attempt.", { port: ["intOrString", "Port number or name."], host: ["string", "Host to connect to; defaults to the pod IP."] }, { required: ["port"] });
def(CORE + "GRPCAction", "A gRPC health check.", { port: ["integer", "Port number."], service: ["string", "Service name sent in the HealthCheckRequest."] }, { required: ["port"] });
def(CORE + "SleepAction", "Sleep for a while.", { seconds: ["integer", "Seconds to sleep."] }, { required: ["seconds"] });
const handlerFields: Spec = {
  exec: [ref("ExecAction"), "Run a command in the container."], httpGet: [ref("HTTPGetAction"), "Send an HTTP GET."],
  tcpSocket: [ref("TCPSocketAction"), "Open a TCP connection."],
};
def(CORE + "Probe", "A periodic check of a container's health.", {
  ...handlerFields, grpc: [ref("GRPCAction"), "Call the gRPC health service."],
  initialDelaySeconds: ["integer", "Seconds after the start before the first probe."],
  timeoutSeconds: ["integer", "Seconds a probe may take; defaults to 1."],
  periodSeconds: ["integer", "Seconds between probes; defaults to 10."],
  successThreshold: ["integer", "Consecutive successes that count as success after a failure; defaults to 1."],
  failureThreshold: ["integer", "Consecutive failures that count as failure; defaults to 3."],
  terminationGracePeriodSeconds: ["integer", "Grace period for a kill caused by this probe, overriding the pod's."],
});
def(CORE + "LifecycleHandler", "An action run at a point of a container's life.", { ...handlerFields, sleep: [ref("SleepAction"), "Sleep."] });
def(CORE + "Lifecycle", "Actions run after a container starts and before it stops.", {
  postStart: [ref("LifecycleHandler"), "Run right after the container is created."],
  preStop: [ref("LifecycleHandler"), "Run before the container is stopped."],
  stopSignal: ["string", "The signal that stops the container."],
});
def(CORE + "Capabilities", "Linux capabilities to add and drop.", { add: [atomic("string"), "Capabilities to add."], drop: [atomic("string"), "Capabilities to drop."] });
def(CORE + "SELinuxOptions", "SELinux labels.", { user: ["string", "User label."], role: ["string", "Role label."], type: ["string", "Type label."], level: ["string", "Level label."] });
def(CORE + "SeccompProfile", "A seccomp profile.", { type: ["string", "RuntimeDefault, Unconfined or Localhost."], localhostProfile: ["string", "Path of a profile on the node."] }, { required: ["type"] });
def(CORE + "AppArmorProfile", "An AppArmor profile.", { type: ["string", "RuntimeDefault, Unconfined or Localhost."], localhostProfile: ["string", "Name of a profile on the node."] }, { required: ["type"] });
def(CORE + "SecurityContext", "Security settings of one container; they override the pod's.", {
  capabilities: [ref("Capabilities"), "Capabilities to add and drop."], privileged: ["boolean", "Run as privileged."],
  seLinuxOptions: [ref("SELinuxOptions"), "SELinux context."], runAsUser: ["integer", "UID of the process."],
  runAsGroup: ["integer", "GID of the process."], runAsNonRoot: ["boolean", "Refuse to start as UID 0."],
  readOnlyRootFilesystem: ["boolean", "Mount the root filesystem read-only."],
  allowPrivilegeEscalation: ["boolean", "Whether a process may gain more privileges than its parent."],
  procMount: ["string", "Default or Unmasked /proc."], seccompProfile: [ref("SeccompProfile"), "Seccomp profile."],
  appArmorProfile: [ref("AppArmorProfile"), "AppArmor profile."],
});
def(CORE + "ContainerResizePolicy", "How a container reacts to a resource resize.", { resourceName: ["string", "cpu or memory."], restartPolicy: ["string", "NotRequired or RestartContainer."] }, { required: ["resourceName", "restartPolicy"] });
def(CORE + "Container", "One container of a pod: an image run with a command, environment, mounts and checks.", {
  name: ["string", "Name of the container, a DNS label unique in the pod. Cannot be updated."],
  image: ["string", "The image reference to run."],
  command: [atomic("string"), "The entrypoint; replaces the image's ENTRYPOINT. $(VAR) is expanded."],
  args: [atomic("string"), "Arguments to the entrypoint; replace the image's CMD. $(VAR) is expanded."],
  workingDir: ["string", "The working directory; defaults to the image's."],
  ports: [{ list: ref("ContainerPort"), listType: "map", keys: ["containerPort", "protocol"], mergeKey: "containerPort", strategy: "merge" }, "Ports the container listens on; informational."],
  envFrom: [atomic(ref("EnvFromSource")), "Sources of many environment variables."],
  env: [keyed(ref("EnvVar"), "name"), "Environment variables of the container."],
  resources: [ref("ResourceRequirements"), "Compute resources the container needs and may use."],
  resizePolicy: [atomic(ref("ContainerResizePolicy")), "How each resource may be resized."],
  restartPolicy: ["string", "Only for init containers: Always makes it a sidecar that keeps running."],
  volumeMounts: [keyed(ref("VolumeMount"), "mountPath"), "Volumes mounted into the container."],
  volumeDevices: [keyed(ref("VolumeDevice"), "devicePath"), "Block devices the container uses."],
  livenessProbe: [ref("Probe"), "Restart the container when this check fails."],
  readinessProbe: [ref("Probe"), "Take the container out of service while this check fails."],
  startupProbe: [ref("Probe"), "Hold the other probes until this check succeeds."],
  lifecycle: [ref("Lifecycle"), "Actions after start and before stop."],
  terminationMessagePath: ["string", "File whose content becomes the termination message; defaults to /dev/termination-log."],
  terminationMessagePolicy: ["string", "File, or FallbackToLogsOnError to use the log tail when the file is empty."],
  imagePullPolicy: ["string", "Always, Never or IfNotPresent; defaults to Always for :latest and IfNotPresent otherwise."],
  securityContext: [ref("SecurityContext"), "Security settings of the container."],
  stdin: ["boolean", "Keep a stdin open for the container."], stdinOnce: ["boolean", "Close stdin after the first attach ends."],
  tty: ["boolean", "Give the container a terminal."],
}, { required: ["name"] });
def(CORE + "KeyToPath", "Maps a key to a file path in a volume.", {
  key: ["string", "The key."], path: ["string", "The relative file path; may not contain '..'."], mode: ["integer", "File mode bits, 0000 to 0777."],
}, { required: ["key", "path"] });
def(CORE + "EmptyDirVolumeSource", "An empty directory that lives as long as the pod.", {
  medium: ["string", "Empty for the node's disk, or Memory for a tmpfs."], sizeLimit: ["quantity", "The most storage the directory may use."],
});
def(CORE + "HostPathVolumeSource", "A file or directory of the node.", {
  path: ["string", "Path on the node."], type: ["string", "What must be there: \"\", DirectoryOrCreate, Directory, FileOrCreate, File, Socket, CharDevice or BlockDevice."],
}, { required: ["path"] });
def(CORE + "ConfigMapVolumeSource", "The keys of a ConfigMap as files.", {
  name: ["string", "Name of the ConfigMap."], items: [atomic(ref("KeyToPath")), "Only these keys, at these paths."],
  defaultMode: ["integer", "Mode of the files; defaults to 0644."], optional: ["boolean", "Whether a missing ConfigMap is fine."],
});
def(CORE + "SecretVolumeSource", "The keys of a Secret as files.", {
  secretName: ["string", "Name of the Secret."], items: [atomic(ref("KeyToPath")), "Only these keys, at these paths."],
  defaultMode: ["integer", "Mode of the files; defaults to 0644."], optional: ["boolean", "Whether a missing Secret is fine."],
});
def(CORE + "DownwardAPIVolumeFile", "One file with a field of the pod.", {
  path: ["string", "Relative file path."], fieldRef: [ref("ObjectFieldSelector"), "A field of the pod."],
  resourceFieldRef: [ref("ResourceFieldSelector"), "A container resource."], mode: ["integer", "File mode bits."],
}, { required: ["path"] });
def(CORE + "DownwardAPIVolumeSource", "Fields of the pod as files.", {
  items: [atomic(ref("DownwardAPIVolumeFile")), "The files."], defaultMode: ["integer", "Mode of the files; defaults to 0644."],
});
def(CORE + "ConfigMapProjection", "A ConfigMap in a projected volume.", {
  name: ["string", "Name of the ConfigMap."], items: [atomic(ref("KeyToPath")), "Only these keys."], optional: ["boolean", "Whether a missing ConfigMap is fine."],
});
def(CORE + "SecretProjection", "A Secret in a projected volume.", {
  name: ["string", "Name of the Secret."], items: [atomic(ref("KeyToPath")), "Only these keys."], optional: ["boolean", "Whether a missing Secret is fine."],
});
def(CORE + "DownwardAPIProjection", "Pod fields in a projected volume.", { items: [atomic(ref("DownwardAPIVolumeFile")), "The files."] });
def(CORE + "ServiceAccountTokenProjection", "A service account token in a projected volume.", {
  audience: ["string", "Audience of the token."], expirationSeconds: ["integer", "Requested lifetime."], path: ["string", "Relative file path."],
}, { required: ["path"] });
def(CORE + "VolumeProjection", "One source of a projected volume.", {
  secret: [ref("SecretProjection"), "A Secret."], downwardAPI: [ref("DownwardAPIProjection"), "Pod fields."],
  configMap: [ref("ConfigMapProjection"), "A ConfigMap."], serviceAccountToken: [ref("ServiceAccountTokenProjection"), "A token."],
});
def(CORE + "ProjectedVolumeSource", "Several sources in one directory.", {
  sources: [atomic(ref("VolumeProjection")), "The sources."], defaultMode: ["integer", "Mode of the files; defaults to 0644."],
});
def(CORE + "PersistentVolumeClaimVolumeSource", "A PersistentVolumeClaim in the same namespace.", {
  claimName: ["string", "Name of the claim."], readOnly: ["boolean", "Mount it read-only."],
}, { required: ["claimName"] });
def(CORE + "ImageVolumeSource", "An OCI image's content as a read-only volume.", { reference: ["string", "The image."], pullPolicy: ["string", "Always, Never or IfNotPresent."] });
def(CORE + "Volume", "A named volume the pod's containers can mount. Exactly one source is set.", {
  name: ["string", "Name of the volume, a DNS label unique in the pod."],
  emptyDir: [ref("EmptyDirVolumeSource"), "An empty directory for the pod's life."],
  hostPath: [ref("HostPathVolumeSource"), "A path of the node."],
  configMap: [ref("ConfigMapVolumeSource"), "A ConfigMap's keys as files."],
  secret: [ref("SecretVolumeSource"), "A Secret's keys as files."],
  downwardAPI: [ref("DownwardAPIVolumeSource"), "Pod fields as files."],
  projected: [ref("ProjectedVolumeSource"), "Several sources in one directory."],
  persistentVolumeClaim: [ref("PersistentVolumeClaimVolumeSource"), "A persistent volume claim."],
  image: [ref("ImageVolumeSource"), "An OCI image's content."],
}, { required: ["name"] });
def(CORE + "Toleration", "Lets the pod run on nodes with a matching taint.", {
  key: ["string", "The taint key; empty with Exists matches every taint."], operator: ["string", "Exists or Equal; defaults to Equal."],
  value: ["string", "The taint value for Equal."], effect: ["string", "NoSchedule, PreferNoSchedule or NoExecute; empty matches all."],
  tolerationSeconds: ["integer", "For NoExecute: how long the pod stays after the taint appears."],
});
def(CORE + "HostAlias", "Extra lines for the pod's /etc/hosts.", { ip: ["string", "The IP address."], hostnames: [atomic("string"), "Names for the IP."] }, { required: ["ip"] });
def(CORE + "PodDNSConfigOption", "A resolver option.", { name: ["string", "Option name."], value: ["string", "Option value."] });
def(CORE + "PodDNSConfig", "DNS settings merged into the pod's resolv.conf.", {
  nameservers: [atomic("string"), "Name server IPs."], searches: [atomic("string"), "Search domains."],
  options: [atomic(ref("PodDNSConfigOption")), "Resolver options."],
});
def(CORE + "PodReadinessGate", "An extra condition the pod needs to be ready.", { conditionType: ["string", "The condition type."] }, { required: ["conditionType"] });
def(CORE + "Sysctl", "A namespaced kernel parameter.", { name: ["string", "Parameter name."], value: ["string", "Value."] }, { required: ["name", "value"] });
def(CORE + "PodSecurityContext", "Security settings for all containers of the pod.", {
  seLinuxOptions: [ref("SELinuxOptions"), "SELinux context."], runAsUser: ["integer", "UID of the processes."],
  runAsGroup: ["integer", "GID of the processes."], runAsNonRoot: ["boolean", "Refuse to start as UID 0."],
  supplementalGroups: [atomic("integer"), "Extra groups of the processes."], fsGroup: ["integer", "Group owning the volumes."],
  sysctls: [atomic(ref("Sysctl")), "Kernel parameters."], seccompProfile: [ref("SeccompProfile"), "Seccomp profile."],
  fsGroupChangePolicy: ["string", "OnRootMismatch or Always."], appArmorProfile: [ref("AppArmorProfile"), "AppArmor profile."],
});
def(CORE + "TopologySpreadConstraint", "How to spread pods across a topology.", {
  maxSkew: ["integer", "Allowed difference in pod counts."], topologyKey: ["string", "Node label of the topology."],
  whenUnsatisfiable: ["string", "DoNotSchedule or ScheduleAnyway."], labelSelector: ["any", "Which pods count."],
  minDomains: ["integer", "Least number of domains."], nodeAffinityPolicy: ["string", "Honor or Ignore."], nodeTaintsPolicy: ["string", "Honor or Ignore."],
  matchLabelKeys: [atomic("string"), "Label keys whose values select the pods that count."],
}, { required: ["maxSkew", "topologyKey", "whenUnsatisfiable"] });
def(CORE + "PodSpec", "The desired state of a pod: its containers, volumes and how they run.", {
  volumes: [keyed(ref("Volume"), "name", { strategy: "merge,retainKeys" }), "Volumes the containers can mount."],
  initContainers: [keyed(ref("Container"), "name"), "Containers run to completion, one after another, before the others start."],
  containers: [keyed(ref("Container"), "name"), "The containers of the pod; at least one. Cannot be added or removed."],
  ephemeralContainers: [keyed("any", "name"), "Debugging containers added to a running pod."],
  restartPolicy: ["string", "Always, OnFailure or Never; defaults to Always."],
  terminationGracePeriodSeconds: ["integer", "Seconds between the stop signal and the kill; defaults to 30."],
  activeDeadlineSeconds: ["integer", "Seconds the pod may be active before it is failed."],
  dnsPolicy: ["string", "ClusterFirst, ClusterFirstWithHostNet, Default or None; defaults to ClusterFirst."],
  nodeSelector: [strMap, "Labels a node must have for the pod to run there."],
  serviceAccountName: ["string", "The service account the pod runs as; defaults to default."],
  serviceAccount: ["string", "Deprecated spelling of serviceAccountName."],
  automountServiceAccountToken: ["boolean", "Whether a service account token is mounted."],
  nodeName: ["string", "The node the pod is bound to; set by the scheduler."],
  hostNetwork: ["boolean", "Use the node's network namespace."], hostPID: ["boolean", "Use the node's PID namespace."],
  hostIPC: ["boolean", "Use the node's IPC namespace."], shareProcessNamespace: ["boolean", "One PID namespace for all containers."],
  securityContext: [ref("PodSecurityContext"), "Security settings for all containers."],
  imagePullSecrets: [keyed(ref("LocalObjectReference"), "name", { listType: "map" }), "Secrets with registry credentials for pulling the images."],
  hostname: ["string", "The pod's hostname; defaults to its name."], subdomain: ["string", "Makes the FQDN <hostname>.<subdomain>.<namespace>.svc.<domain>."],
  affinity: ["any", "Scheduling constraints."], schedulerName: ["string", "The scheduler; defaults to default-scheduler."],
  tolerations: [atomic(ref("Toleration")), "Taints the pod tolerates."],
  hostAliases: [keyed(ref("HostAlias"), "ip"), "Extra /etc/hosts entries."],
  priorityClassName: ["string", "The pod's PriorityClass."], priority: ["integer", "The pod's priority, from its PriorityClass."],
  dnsConfig: [ref("PodDNSConfig"), "DNS settings."], readinessGates: [atomic(ref("PodReadinessGate")), "Extra conditions for readiness."],
  runtimeClassName: ["string", "The RuntimeClass to run with."], enableServiceLinks: ["boolean", "Inject service environment variables; defaults to true."],
  preemptionPolicy: ["string", "PreemptLowerPriority or Never."], overhead: [resList, "Resources the pod's sandbox takes."],
  topologySpreadConstraints: [keyed(ref("TopologySpreadConstraint"), "topologyKey", { keys: ["topologyKey", "whenUnsatisfiable"] }), "How pods spread."],
  setHostnameAsFQDN: ["boolean", "Set the hostname to the FQDN."], os: ["any", "The OS the pod needs."],
  hostUsers: ["boolean", "Use the node's user namespace."], schedulingGates: [keyed("any", "name"), "Gates that hold scheduling."],
  resourceClaims: [keyed("any", "name"), "Dynamic resource claims."], resources: [ref("ResourceRequirements"), "Pod-level resources."],
}, { required: ["containers"] });

// core/v1 pod status
def(CORE + "PodCondition", "One condition of a pod.", {
  type: ["string", "PodScheduled, PodReadyToStartContainers, Initialized, ContainersReady or Ready."],
  status: ["string", "True, False or Unknown."], lastProbeTime: ["time", "When it was last probed."],
  lastTransitionTime: ["time", "When the status last changed."], reason: ["string", "Why, in one CamelCase word."],
  message: ["string", "Why, for a human."],
}, { required: ["type", "status"] });
def(CORE + "ContainerStateWaiting", "A container that is not running yet.", { reason: ["string", "Why it is waiting."], message: ["string", "More about why."] });
def(CORE + "ContainerStateRunning", "A running container.", { startedAt: ["time", "When it (re)started."] });
def(CORE + "ContainerStateTerminated", "A container that ended.", {
  exitCode: ["integer", "Its exit code."], signal: ["integer", "The signal that ended it."], reason: ["string", "Why it ended."],
  message: ["string", "Its termination message."], startedAt: ["time", "When it started."], finishedAt: ["time", "When it ended."],
  containerID: ["string", "The container's ID, runtime://id."],
}, { required: ["exitCode"] });
def(CORE + "ContainerState", "The state of a container: exactly one of waiting, running, terminated.", {
  waiting: [ref("ContainerStateWaiting"), "Not running yet."], running: [ref("ContainerStateRunning"), "Running."],
  terminated: [ref("ContainerStateTerminated"), "Ended."],
});
def(CORE + "ContainerStatus", "What the kubelet reports about one container.", {
  name: ["string", "The container's name."], state: [ref("ContainerState"), "Its current state."],
  lastState: [ref("ContainerState"), "How its previous run ended."], ready: ["boolean", "Whether its readiness probe passes."],
  restartCount: ["integer", "How often it was restarted."], image: ["string", "The image it runs."],
  imageID: ["string", "The image's ID."], containerID: ["string", "The container's ID, runtime://id."],
  started: ["boolean", "Whether its startup probe passed."], allocatedResources: [resList, "Resources allocated to it."],
  resources: [ref("ResourceRequirements"), "Resources it actually has."], volumeMounts: [atomic("any"), "Its mounts."],
  user: ["any", "The identity it runs as."], allocatedResourcesStatus: [atomic("any"), "Health of allocated resources."],
  stopSignal: ["string", "The signal that stops it."],
}, { required: ["name", "ready", "restartCount", "image", "imageID"] });
def(CORE + "PodIP", "One IP address of the pod.", { ip: ["string", "The address."] }, { required: ["ip"] });
def(CORE + "HostIP", "One IP address of the pod's node.", { ip: ["string", "The address."] }, { required: ["ip"] });
def(CORE + "PodStatus", "What the kubelet observed of the pod. Read-only for clients.", {
  phase: ["string", "Pending, Running, Succeeded, Failed or Unknown."],
  conditions: [keyed(ref("PodCondition"), "type"), "The pod's conditions."],
  message: ["string", "Why the pod is in this state, for a human."], reason: ["string", "Why, in one CamelCase word (Evicted)."],
  nominatedNodeName: ["string", "The node a preemption was made for."], hostIP: ["string", "The node's IP."],
  hostIPs: [{ list: ref("HostIP"), listType: "atomic", mergeKey: "ip", strategy: "merge" }, "The node's IPs."],
  podIP: ["string", "The pod's IP."], podIPs: [{ list: ref("PodIP"), listType: "map", keys: ["ip"], mergeKey: "ip", strategy: "merge" }, "The pod's IPs."],
  startTime: ["time", "When the kubelet accepted the pod."],
  initContainerStatuses: [atomic(ref("ContainerStatus")), "One per init container."],
  containerStatuses: [atomic(ref("ContainerStatus")), "One per container."],
  qosClass: ["string", "Guaranteed, Burstable or BestEffort."],
  ephemeralContainerStatuses: [atomic(ref("ContainerStatus")), "One per ephemeral container."],
  resize: ["string", "State of a resource resize."], resourceClaimStatuses: [atomic("any"), "Resource claim status."],
});
def(CORE + "Pod", "A group of containers that share a network and volumes, run together on one node.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: Pod."],
  metadata: [mref("ObjectMeta"), "The pod's metadata."], spec: [ref("PodSpec"), "What the pod should run."],
  status: [ref("PodStatus"), "What the kubelet observed. Read-only."],
}, { gvk: { group: "", version: "v1", kind: "Pod" } });

// core/v1 other kinds
def(CORE + "ObjectReference", "A reference to another object.", {
  kind: ["string", "Kind."], namespace: ["string", "Namespace."], name: ["string", "Name."], uid: ["string", "UID."],
  apiVersion: ["string", "API version."], resourceVersion: ["string", "Resource version."],
  fieldPath: ["string", "A part of the object, e.g. spec.containers{nginx}."],
});
def(CORE + "EventSource", "Who reported an event.", { component: ["string", "The component."], host: ["string", "The node."] });
def(CORE + "EventSeries", "A run of repeated events.", { count: ["integer", "How many so far."], lastObservedTime: ["microtime", "The latest one."] });
def(CORE + "Event", "A report of something that happened to an object.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: Event."], metadata: [mref("ObjectMeta"), "The event's metadata."],
  involvedObject: [ref("ObjectReference"), "The object the event is about."], reason: ["string", "Why, in one CamelCase word."],
  message: ["string", "What happened, for a human."], source: [ref("EventSource"), "Who reported it."],
  firstTimestamp: ["time", "When it first happened."], lastTimestamp: ["time", "When it last happened."],
  count: ["integer", "How often it happened."], type: ["string", "Normal or Warning."], eventTime: ["microtime", "When it first happened, precisely."],
  series: [ref("EventSeries"), "Repeats of it."], action: ["string", "What was done."], related: [ref("ObjectReference"), "A second object involved."],
  reportingComponent: ["string", "The controller that reported it."], reportingInstance: ["string", "The instance of that controller."],
}, { required: ["metadata", "involvedObject"], gvk: { group: "", version: "v1", kind: "Event" } });
def(CORE + "Taint", "Keeps pods that do not tolerate it off a node.", {
  key: ["string", "Taint key."], value: ["string", "Taint value."], effect: ["string", "NoSchedule, PreferNoSchedule or NoExecute."],
  timeAdded: ["time", "When a NoExecute taint was added."],
}, { required: ["key", "effect"] });
def(CORE + "NodeSpec", "How a node should be used.", {
  podCIDR: ["string", "The pod IP range of the node."], podCIDRs: [set({ strategy: "merge" }), "The pod IP ranges."],
  providerID: ["string", "The cloud provider's ID."], unschedulable: ["boolean", "Keep new pods off the node."],
  taints: [atomic(ref("Taint")), "The node's taints."],
});
def(CORE + "NodeCondition", "One condition of a node.", {
  type: ["string", "Ready, MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable."], status: ["string", "True, False or Unknown."],
  lastHeartbeatTime: ["time", "Last heartbeat."], lastTransitionTime: ["time", "Last status change."],
  reason: ["string", "Why, in one word."], message: ["string", "Why, for a human."],
}, { required: ["type", "status"] });
def(CORE + "NodeAddress", "An address of a node.", { type: ["string", "Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS."], address: ["string", "The address."] }, { required: ["type", "address"] });
def(CORE + "DaemonEndpoint", "A port a node daemon listens on.", { Port: ["integer", "Port number."] }, { required: ["Port"] });
def(CORE + "NodeDaemonEndpoints", "Ports of the node's daemons.", { kubeletEndpoint: [ref("DaemonEndpoint"), "The kubelet's port."] });
def(CORE + "NodeSystemInfo", "What the node reports about itself.", {
  machineID: ["string", "Machine ID."], systemUUID: ["string", "System UUID."], bootID: ["string", "Boot ID."],
  kernelVersion: ["string", "Kernel version."], osImage: ["string", "OS image."], containerRuntimeVersion: ["string", "Runtime and version."],
  kubeletVersion: ["string", "Kubelet version."], kubeProxyVersion: ["string", "Deprecated."], operatingSystem: ["string", "linux."],
  architecture: ["string", "CPU architecture."],
}, { required: ["machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture"] });
def(CORE + "ContainerImage", "An image present on a node.", { names: [atomic("string"), "Its names."], sizeBytes: ["integer", "Its size."] });
def(CORE + "NodeStatus", "What the kubelet reports about its node.", {
  capacity: [resList, "Total resources."], allocatable: [resList, "Resources pods may use."], phase: ["string", "Deprecated."],
  conditions: [keyed(ref("NodeCondition"), "type"), "The node's conditions."],
  addresses: [keyed(ref("NodeAddress"), "type"), "The node's addresses."],
  daemonEndpoints: [ref("NodeDaemonEndpoints"), "Ports of its daemons."], nodeInfo: [ref("NodeSystemInfo"), "What it reports about itself."],
  images: [atomic(ref("ContainerImage")), "Images present on it."], volumesInUse: [atomic("string"), "Volumes in use."],
  volumesAttached: [atomic("any"), "Volumes attached."], config: ["any", "Dynamic config status."],
  runtimeHandlers: [atomic("any"), "Runtime handlers."], features: ["any", "Features the node supports."],
});
def(CORE + "Node", "A machine pods run on, registered by its kubelet.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: Node."], metadata: [mref("ObjectMeta"), "The node's metadata."],
  spec: [ref("NodeSpec"), "How the node should be used."], status: [ref("NodeStatus"), "What the kubelet reports."],
}, { gvk: { group: "", version: "v1", kind: "Node" } });
def(CORE + "NamespaceSpec", "What a namespace needs before it can be removed.", { finalizers: [atomic("string"), "Cleanups left before removal."] });
def(CORE + "NamespaceCondition", "A condition of a namespace.", {
  type: ["string", "Condition type."], status: ["string", "True, False or Unknown."], lastTransitionTime: ["time", "Last change."],
  reason: ["string", "Why."], message: ["string", "Why, for a human."],
}, { required: ["type", "status"] });
def(CORE + "NamespaceStatus", "The state of a namespace.", {
  phase: ["string", "Active or Terminating."], conditions: [keyed(ref("NamespaceCondition"), "type"), "Its conditions."],
});
def(CORE + "Namespace", "A scope for names; deleting one deletes what is in it.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: Namespace."], metadata: [mref("ObjectMeta"), "The namespace's metadata."],
  spec: [ref("NamespaceSpec"), "Its finalizers."], status: [ref("NamespaceStatus"), "Its phase."],
}, { gvk: { group: "", version: "v1", kind: "Namespace" } });
def(CORE + "Secret", "Confidential data, such as passwords and registry credentials.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: Secret."], metadata: [mref("ObjectMeta"), "The secret's metadata."],
  data: [{ map: "bytes" }, "The data, each value base64-encoded."], stringData: [strMap, "Data as plain strings, merged into data on write."],
  type: ["string", "What the data is for, e.g. Opaque or kubernetes.io/dockerconfigjson."],
  immutable: ["boolean", "When true, data cannot be changed."],
}, { gvk: { group: "", version: "v1", kind: "Secret" } });
def(CORE + "ConfigMap", "Configuration data for pods.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: ConfigMap."], metadata: [mref("ObjectMeta"), "The config map's metadata."],
  data: [strMap, "UTF-8 data."], binaryData: [{ map: "bytes" }, "Binary data, base64-encoded."], immutable: ["boolean", "When true, data cannot be changed."],
}, { gvk: { group: "", version: "v1", kind: "ConfigMap" } });
def(CORE + "ServiceAccount", "An identity for the processes of pods.", {
  apiVersion: ["string", "The API version: v1."], kind: ["string", "The kind: ServiceAccount."], metadata: [mref("ObjectMeta"), "The service account's metadata."],
  secrets: [keyed(ref("ObjectReference"), "name", { listType: "map" }), "Secrets pods running as it may use."],
  imagePullSecrets: [atomic(ref("LocalObjectReference")), "Registry credentials for pods running as it."],
  automountServiceAccountToken: ["boolean", "Whether pods get a token mounted."],
}, { gvk: { group: "", version: "v1", kind: "ServiceAccount" } });

// events.k8s.io/v1
const EV = "io.k8s.api.events.v1.";
def(EV + "EventSeries", "A run of repeated events.", { count: ["integer", "How many so far."], lastObservedTime: ["microtime", "The latest one."] }, { required: ["count", "lastObservedTime"] });
def(EV + "Event", "A report of something that happened to an object.", {
  apiVersion: ["string", "The API version: events.k8s.io/v1."], kind: ["string", "The kind: Event."], metadata: [mref("ObjectMeta"), "The event's metadata."],
  eventTime: ["microtime", "When it first happened."], series: [`#${EV}EventSeries`, "Repeats of it."],
  reportingController: ["string", "The controller that reported it."], reportingInstance: ["string", "The instance of that controller."],
  action: ["string", "What was done."], reason: ["string", "Why, in one word."], regarding: [ref("ObjectReference"), "The object it is about."],
  related: [ref("ObjectReference"), "A second object involved."], note: ["string", "What happened, for a human."], type: ["string", "Normal or Warning."],
  deprecatedSource: [ref("EventSource"), "core/v1 source."], deprecatedFirstTimestamp: ["time", "core/v1 firstTimestamp."],
  deprecatedLastTimestamp: ["time", "core/v1 lastTimestamp."], deprecatedCount: ["integer", "core/v1 count."],
}, { required: ["eventTime"], gvk: { group: "events.k8s.io", version: "v1", kind: "Event" } });

// coordination.k8s.io/v1
const CO = "io.k8s.api.coordination.v1.";
def(CO + "LeaseSpec", "Who holds a lease and until when.", {
  holderIdentity: ["string", "The holder."], leaseDurationSeconds: ["integer", "Seconds a holder keeps it without renewing."],
  acquireTime: ["microtime", "When it was acquired."], renewTime: ["microtime", "When it was last renewed."],
  leaseTransitions: ["integer", "How often it changed hands."], strategy: ["string", "Leader election strategy."],
  preferredHolder: ["string", "The holder that should take over."],
});
def(CO + "Lease", "A lease, such as a node's heartbeat in kube-node-lease.", {
  apiVersion: ["string", "The API version: coordination.k8s.io/v1."], kind: ["string", "The kind: Lease."], metadata: [mref("ObjectMeta"), "The lease's metadata."],
  spec: [`#${CO}LeaseSpec`, "Holder and times."],
}, { gvk: { group: "coordination.k8s.io", version: "v1", kind: "Lease" } });

export const DEFINITIONS: ReadonlyMap<string, Definition> = DEFS;

/** The definition of a top-level kind by its group ("" for core) and kind. */
export function definitionOfKind(kind: string, group = ""): Definition | undefined {
  for (const d of DEFS.values()) if (d.gvk && d.gvk.kind === kind && d.gvk.group === group) return d;
  return undefined;
}

/** The definition a `#name` field type names. */
export function definitionOf(t: FieldType): Definition | undefined {
  return typeof t === "string" && t.startsWith("#") ? DEFS.get(t.slice(1)) : undefined;
}

/** Resource (plural) → kind, group of the kinds podyard serves. */
export const RESOURCES: Record<string, { kind: string; group: string; version: string; namespaced: boolean }> = {
  pods: { kind: "Pod", group: "", version: "v1", namespaced: true },
  events: { kind: "Event", group: "", version: "v1", namespaced: true },
  nodes: { kind: "Node", group: "", version: "v1", namespaced: false },
  namespaces: { kind: "Namespace", group: "", version: "v1", namespaced: false },
  secrets: { kind: "Secret", group: "", version: "v1", namespaced: true },
  configmaps: { kind: "ConfigMap", group: "", version: "v1", namespaced: true },
  serviceaccounts: { kind: "ServiceAccount", group: "", version: "v1", namespaced: true },
  leases: { kind: "Lease", group: "coordination.k8s.io", version: "v1", namespaced: true },
};
