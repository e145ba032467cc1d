import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';

/**
 * A synthetic OpenShift cluster state in the offline format `serve --cluster-state DIR` reads: plain Kubernetes
 * manifests (multi-document YAML, as `oc get -o yaml` users keep them) of Nodes, MachineConfigs and
 * MachineConfigPools. Deterministic for a seed, so two runs measure the same cluster.
 *
 * Shape (openshift/machine-config-operator, `templates/` and `pkg/controller/render`): pools `master`, `worker`
 * and a custom `sctp` pool whose nodes also carry the worker role; per pool a current `rendered-<pool>-<hash>`
 * (Ignition 3.2.0, owned by the pool) plus old rendered configs the cluster keeps; node annotations
 * currentConfig / desiredConfig / state written by the machine-config daemon. Only the sctp pool's rendered
 * configs carry the documented `load-sctp-module` files; 1% of the workers are mid-rollout.
 */

export interface ClusterStateSpec {
  nodes: number;
  /** Rendered MachineConfigs in the state, current and old (at least 4). */
  renderedConfigs: number;
  /** Approximate JSON size of each rendered MachineConfig. */
  renderedConfigBytes: number;
  seed: number;
}

export interface ClusterStateSummary {
  dir: string;
  nodes: number;
  nodesByPool: Record<PoolName, number>;
  rolloutNodes: number;
  machineConfigs: number;
  renderedConfigs: number;
  pools: number;
  files: number;
  bytes: number;
  generateMs: number;
}

type PoolName = 'master' | 'worker' | 'sctp';

/** The live configs (current for each pool, plus the worker rollout target) need four rendered configs. */
export const MIN_RENDERED_CONFIGS = 4;
const NODES_PER_FILE = 1000;
const IGNITION_VERSION = '3.2.0';
const MCO_GROUP = 'machineconfiguration.openshift.io';
const ROLE_LABEL = `${MCO_GROUP}/role`;
/** A fixed instant: timestamps come from the seed, never from the clock. */
const EPOCH = Date.UTC(2024, 0, 15);

/** mulberry32: a small, well-distributed 32-bit PRNG; enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(private readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  hex(chars: number): string {
    let s = '';
    while (s.length < chars) s += this.int(16).toString(16);
    return s;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  timestamp(maxDaysBack: number): string {
    return new Date(EPOCH - this.int(maxDaysBack * 86_400) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  }
}

/** How a cluster of n nodes splits into pools: three masters, a tenth of the rest in the sctp pool. */
export function poolSizes(nodes: number): Record<PoolName, number> {
  const master = Math.min(3, nodes);
  const rest = nodes - master;
  const sctp = rest >= 2 ? Math.max(1, Math.round(rest / 10)) : 0;
  return { master, sctp, worker: rest - sctp };
}

// Data URLs as the MCO renders them (RFC 2397): percent-encoded text, base64, or gzip + base64 with `compression`.
function percentEncoded(text: string): string {
  return `data:,${encodeURIComponent(text)}`;
}
function base64Url(content: string | Buffer): string {
  return `data:text/plain;charset=utf-8;base64,${Buffer.from(content).toString('base64')}`;
}

interface IgnitionFile {
  path: string;
  mode: number;
  overwrite: boolean;
  contents: { source: string; compression?: string };
  user?: { name: string };
}

function file(path: string, source: string, mode = 0o644, compression?: string): IgnitionFile {
  return { path, mode, overwrite: true, contents: compression ? { source, compression } : { source } };
}

/** A PEM block of the size of a real CA certificate; the bytes are random, the loader treats them as opaque. */
function pemCertificate(g: Gen): string {
  const body = g.bytes(930).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

// File contents after the MCO templates (templates/worker/01-worker-kubelet, 01-worker-container-runtime, 00-worker).
const KUBELET_CONF = `kind: KubeletConfiguration
apiVersion: kubelet.config.k8s.io/v1beta1
authentication:
  x509:
    clientCAFile: /etc/kubernetes/kubelet-ca.crt
  anonymous:
    enabled: false
cgroupDriver: systemd
cgroupRoot: /
clusterDNS:
  - 172.30.0.10
clusterDomain: cluster.local
containerLogMaxSize: 50Mi
maxPods: 250
kubeAPIQPS: 50
kubeAPIBurst: 100
podPidsLimit: 4096
protectKernelDefaults: true
rotateCertificates: true
serializeImagePulls: false
staticPodPath: /etc/kubernetes/manifests
systemCgroups: /system.slice
nodeStatusUpdateFrequency: 10s
nodeStatusReportFrequency: 5m
systemReserved:
  ephemeral-storage: 1Gi
featureGates:
  APIPriorityAndFairness: true
  RotateKubeletServerCertificate: true
  DownwardAPIHugePages: true
serverTLSBootstrap: true
tlsMinVersion: VersionTLS12
tlsCipherSuites:
  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
  - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  - TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
  - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
  - TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
  - TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
`;

const CRIO_CONF = `[crio]
internal_wipe = true
storage_driver = "overlay"
storage_option = [
    "overlay.override_kernel_check=1",
]

[crio.api]
stream_address = ""
stream_port = "10010"

[crio.runtime]
selinux = true
conmon = ""
conmon_cgroup = "pod"
default_env = [
    "NSS_SDB_USE_CACHE=no",
]
default_runtime = "runc"
log_level = "info"
cgroup_manager = "systemd"
default_sysctls = [
    "net.ipv4.ping_group_range=0 2147483647",
]
hooks_dir = [
    "/etc/containers/oci/hooks.d",
    "/run/containers/oci/hooks.d",
    "/usr/share/containers/oci/hooks.d",
]
manage_ns_lifecycle = true
absent_mount_sources_to_reject = [
    "/etc/hostname",
]
drop_infra_ctr = true

[crio.runtime.runtimes.runc]
runtime_root = "/run/runc"
allowed_annotations = [
    "io.containers.trace-syscall",
]

[crio.runtime.runtimes.crun]
runtime_root = "/run/crun"
allowed_annotations = [
    "io.containers.trace-syscall",
]

[crio.image]
global_auth_file = "/var/lib/kubelet/config.json"
pause_image = "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:PAUSE"
pause_image_auth_file = "/var/lib/kubelet/config.json"
pause_command = "/usr/bin/pod"

[crio.network]
network_dir = "/etc/kubernetes/cni/net.d/"
plugin_dirs = [
    "/var/lib/cni/bin",
    "/usr/libexec/cni",
]

[crio.metrics]
enable_metrics = true
metrics_port = 9537
`;

const REGISTRIES_CONF = `unqualified-search-registries = ['registry.access.redhat.com', 'docker.io']
short-name-mode = ""

[[registry]]
  prefix = ""
  location = "quay.io/openshift-release-dev/ocp-release"
  mirror-by-digest-only = true

  [[registry.mirror]]
    location = "mirror.example.com:5000/ocp4/openshift4"

[[registry]]
  prefix = ""
  location = "quay.io/openshift-release-dev/ocp-v4.0-art-dev"
  mirror-by-digest-only = true

  [[registry.mirror]]
    location = "mirror.example.com:5000/ocp4/openshift4"
`;

const POLICY_JSON = `{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}}\n`;
const STORAGE_CONF = `[storage]
driver = "overlay"
runroot = "/var/run/containers/storage"
graphroot = "/var/lib/containers/storage"

[storage.options]
additionalimagestores = [
]

[storage.options.overlay]
mountopt = "nodev,metacopy=on"
`;

const KUBELET_UNIT = `[Unit]
Description=Kubernetes Kubelet
Wants=rpc-statd.service network-online.target
Requires=crio.service kubelet-auto-node-size.service
After=network-online.target crio.service kubelet-auto-node-size.service
After=ostree-finalize-staged.service

[Service]
Type=notify
ExecStartPre=/bin/mkdir --parents /etc/kubernetes/manifests
ExecStartPre=/bin/rm -f /var/lib/kubelet/cpu_manager_state
ExecStartPre=/bin/rm -f /var/lib/kubelet/memory_manager_state
EnvironmentFile=/etc/os-release
EnvironmentFile=-/etc/kubernetes/kubelet-workaround
EnvironmentFile=-/etc/kubernetes/kubelet-env
EnvironmentFile=/etc/node-sizing.env

ExecStart=/usr/bin/hyperkube \\
    kubelet \\
      --config=/etc/kubernetes/kubelet.conf \\
      --bootstrap-kubeconfig=/etc/kubernetes/kubeconfig \\
      --kubeconfig=/var/lib/kubelet/kubeconfig \\
      --container-runtime-endpoint=/var/run/crio/crio.sock \\
      --runtime-cgroups=/system.slice/crio.service \\
      --node-labels=node-role.kubernetes.io/worker,node.openshift.io/os_id=\${ID} \\
      --node-ip=\${KUBELET_NODE_IP} \\
      --minimum-container-ttl-duration=6m0s \\
      --volume-plugin-dir=/etc/kubernetes/kubelet-plugins/volume/exec \\
      --cloud-provider= \\
      --hostname-override=\${KUBELET_NODE_NAME} \\
      --provider-id=\${KUBELET_PROVIDERID} \\
      --pod-infra-container-image=quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:PAUSE \\
      --system-reserved=cpu=\${SYSTEM_RESERVED_CPU},memory=\${SYSTEM_RESERVED_MEMORY},ephemeral-storage=\${SYSTEM_RESERVED_ES} \\
      --v=\${KUBELET_LOG_LEVEL}

Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
`;

interface RenderedConfig {
  name: string;
  pool: PoolName;
  withSctp: boolean;
  /** Old configs of the sctp pool were rendered from the 2.2.0 blog MachineConfig: its data URL form. */
  sctpFromBlog: boolean;
}

function renderedMachineConfig(
  g: Gen,
  rc: RenderedConfig,
  poolUid: string,
  targetBytes: number,
): Record<string, unknown> {
  const files: IgnitionFile[] = [
    file('/etc/kubernetes/kubelet.conf', percentEncoded(KUBELET_CONF)),
    file('/etc/crio/crio.conf.d/00-default', percentEncoded(CRIO_CONF.replace(/PAUSE/g, g.hex(64)))),
    file('/etc/containers/registries.conf', percentEncoded(REGISTRIES_CONF)),
    file('/etc/containers/policy.json', percentEncoded(POLICY_JSON)),
    file('/etc/containers/storage.conf', percentEncoded(STORAGE_CONF)),
    file('/etc/sysctl.d/forward.conf', percentEncoded('net.ipv4.ip_forward = 1\nnet.ipv6.conf.all.forwarding = 1\n')),
    file(
      '/etc/sysctl.d/inotify.conf',
      percentEncoded('fs.inotify.max_user_watches = 65536\nfs.inotify.max_user_instances = 8192\n'),
    ),
    file(
      '/etc/tmpfiles.d/cleanup-cni.conf',
      percentEncoded(
        'r /etc/kubernetes/cni/net.d/80-openshift-network.conf\nr /etc/kubernetes/cni/net.d/10-ovn-kubernetes.conf\n',
      ),
    ),
    file('/etc/modules-load.d/iptables.conf', percentEncoded('ip_tables\nip6_tables\n')),
    file('/etc/mco/proxy.env', percentEncoded('')),
    file(
      '/etc/kubernetes/kubelet-ca.crt',
      base64Url(gzipSync(Array.from({ length: 6 }, () => pemCertificate(g)).join(''))),
      0o644,
      'gzip',
    ),
    file('/etc/kubernetes/ca.crt', base64Url(pemCertificate(g) + pemCertificate(g))),
    file(
      '/var/lib/kubelet/config.json',
      base64Url(
        JSON.stringify({
          auths: {
            'cloud.openshift.com': { auth: g.bytes(90).toString('base64'), email: 'ops@example.com' },
            'quay.io': { auth: g.bytes(120).toString('base64'), email: 'ops@example.com' },
            'registry.redhat.io': { auth: g.bytes(900).toString('base64'), email: 'ops@example.com' },
          },
        }),
      ),
      0o600,
    ),
  ];
  if (rc.withSctp) {
    // The documented load-sctp-module MachineConfig (examples/openshift-machineconfig-load-sctp-*.yaml) merged in.
    files.push(file('/etc/modprobe.d/sctp-blacklist.conf', 'data:,'));
    files.push(
      file('/etc/modules-load.d/sctp-load.conf', rc.sctpFromBlog ? 'data:text/plain;charset=utf-8,sctp' : 'data:,sctp'),
    );
  }
  const config = {
    ignition: { version: IGNITION_VERSION },
    passwd: {
      users: [{ name: 'core', sshAuthorizedKeys: [`ssh-ed25519 ${g.bytes(51).toString('base64')} ops@example.com`] }],
    },
    storage: { files },
    systemd: {
      units: [
        { name: 'kubelet.service', enabled: true, contents: KUBELET_UNIT },
        {
          name: 'crio.service',
          dropins: [
            { name: '10-mco-default-env.conf', contents: '[Service]\nEnvironment="ENABLE_PROFILE_UNIX_SOCKET=true"\n' },
          ],
        },
        {
          name: 'machine-config-daemon-firstboot.service',
          enabled: true,
          contents:
            '[Unit]\nDescription=Machine Config Daemon Firstboot\nConditionPathExists=/etc/ignition-machine-config-encapsulated.json\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/run/bin/machine-config-daemon firstboot-complete-machineconfig\n\n[Install]\nRequiredBy=kubelet.service\n',
        },
      ],
    },
  };
  const mc = {
    apiVersion: `${MCO_GROUP}/v1`,
    kind: 'MachineConfig',
    metadata: {
      name: rc.name,
      uid: g.uuid(),
      resourceVersion: String(100_000 + g.int(900_000)),
      generation: 1,
      creationTimestamp: g.timestamp(400),
      annotations: {
        [`${MCO_GROUP}/generated-by-controller-version`]: g.hex(40),
        [`${MCO_GROUP}/release-image-version`]: '4.12.30',
      },
      ownerReferences: [
        {
          apiVersion: `${MCO_GROUP}/v1`,
          kind: 'MachineConfigPool',
          name: rc.pool,
          uid: poolUid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      config,
      extensions: [],
      fips: false,
      kernelArguments: [],
      kernelType: 'default',
      osImageURL: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:${g.hex(64)}`,
    },
  };
  // The bulk of a real rendered config is CA bundles (the cluster trust bundle under the proxy's user CA).
  const bundleFile = file('/etc/pki/ca-trust/source/anchors/openshift-config-user-ca-bundle.crt', base64Url(''));
  files.push(bundleFile);
  const bundle = [pemCertificate(g)];
  const perCert = Math.ceil((bundle[0]!.length * 4) / 3);
  const certs = Math.round((targetBytes - JSON.stringify(mc).length) / perCert);
  while (bundle.length < certs) bundle.push(pemCertificate(g));
  bundleFile.contents.source = base64Url(bundle.join(''));
  return mc;
}

function sourceMachineConfig(name: string, role: string, config: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: `${MCO_GROUP}/v1`,
    kind: 'MachineConfig',
    metadata: { name, labels: { [ROLE_LABEL]: role } },
    spec: { config },
  };
}

function pool(
  g: Gen,
  name: PoolName,
  current: string,
  desired: string,
  machines: number,
  updating: number,
): Record<string, unknown> {
  const selector =
    name === 'sctp'
      ? { matchExpressions: [{ key: ROLE_LABEL, operator: 'In', values: ['worker', 'sctp'] }] }
      : { matchLabels: { [ROLE_LABEL]: name } };
  const condition = (type: string, status: boolean) => ({
    type,
    status: status ? 'True' : 'False',
    lastTransitionTime: g.timestamp(30),
    reason: '',
    message: '',
  });
  return {
    apiVersion: `${MCO_GROUP}/v1`,
    kind: 'MachineConfigPool',
    metadata: {
      name,
      uid: g.uuid(),
      labels: name === 'sctp' ? {} : { [`pools.operator.machineconfiguration.openshift.io/${name}`]: '' },
    },
    spec: {
      configuration: { name: desired },
      machineConfigSelector: selector,
      nodeSelector: { matchLabels: { [`node-role.kubernetes.io/${name}`]: '' } },
      paused: false,
    },
    status: {
      configuration: { name: current },
      machineCount: machines,
      readyMachineCount: machines - updating,
      updatedMachineCount: machines - updating,
      unavailableMachineCount: updating,
      degradedMachineCount: 0,
      conditions: [
        condition('Updated', updating === 0),
        condition('Updating', updating > 0),
        condition('Degraded', false),
      ],
    },
  };
}

/**
 * Images a node reports: the kubelet lists at most 50 (nodeStatusMaxImages), largest first, each with its
 * digest and tag names; on an OpenShift node they are the release's component images. This list is most of a
 * Node's size (~14 KB as JSON).
 */
const IMAGES = [
  'ose-kube-rbac-proxy',
  'ose-multus-cni',
  'ovn-kubernetes',
  'ose-node-exporter',
  'machine-config-operator',
  'ose-haproxy-router',
  'ose-cli',
  'ose-pod',
  'ose-coredns',
  'ose-dns-operator',
  'ose-cluster-network-operator',
  'ose-multus-whereabouts-ipam-cni',
  'ose-multus-route-override-cni',
  'ose-egress-router-cni',
  'ose-network-metrics-daemon',
  'ose-container-networking-plugins',
  'ose-csi-node-driver-registrar',
  'ose-csi-livenessprobe',
  'ose-cluster-node-tuning-operator',
  'ose-tuned',
  'ose-prometheus',
  'ose-prometheus-config-reloader',
  'ose-prometheus-alertmanager',
  'ose-kube-state-metrics',
  'ose-openshift-state-metrics',
  'ose-thanos',
  'ose-telemeter',
  'ose-oauth-proxy',
  'ose-console',
  'ose-console-operator',
  'ose-ingress-operator',
  'ose-cluster-dns-operator',
  'ose-cluster-image-registry-operator',
  'ose-docker-registry',
  'ose-node-ca',
  'ose-must-gather',
  'ose-insights-operator',
  'ose-cluster-monitoring-operator',
  'ose-cluster-storage-operator',
  'ose-aws-ebs-csi-driver',
  'ose-local-storage-diskmaker',
  'ose-sriov-network-config-daemon',
  'ose-sriov-cni',
  'ose-sriov-network-device-plugin',
  'ose-kuryr-cni',
  'ose-metallb',
  'ose-frr',
  'ose-keepalived-ipfailover',
  'ose-baremetal-runtimecfg',
  'ose-machine-os-content',
];

/** Bare-metal host profiles, as metal3 names them for the instance-type label. */
const INSTANCE_TYPES = ['r650-64c-256g', 'r750-96c-512g', 'xr11-32c-128g'];

/** index: position in the cluster (addresses); ordinal: position in the pool (host name). */
function node(
  g: Gen,
  index: number,
  ordinal: number,
  poolName: PoolName,
  current: string,
  desired: string,
): Record<string, unknown> {
  const role = poolName === 'master' ? 'master' : 'worker';
  const name = `${poolName}-${String(ordinal).padStart(5, '0')}.ocp.example.com`;
  const roles: Record<string, string> = { [`node-role.kubernetes.io/${role}`]: '' };
  if (poolName === 'sctp') roles['node-role.kubernetes.io/sctp'] = '';
  if (role === 'master') roles['node-role.kubernetes.io/control-plane'] = '';
  const heartbeat = g.timestamp(1);
  const ip = `10.${128 + (index >> 16)}.${(index >> 8) & 255}.${index & 255}`;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: g.uuid(),
      resourceVersion: String(1_000_000 + g.int(9_000_000)),
      creationTimestamp: g.timestamp(400),
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name.split('.')[0]!,
        'kubernetes.io/os': 'linux',
        ...roles,
        'node.openshift.io/os_id': 'rhcos',
        // What the provider sets on every real node next to kubelet's hostname/os/arch (kubernetes
        // pkg/kubelet/kubelet_node_status.go initialNode, or k8s.io/cloud-provider's node controller): instance
        // type, zone and region, and their deprecated beta copies.
        'node.kubernetes.io/instance-type': INSTANCE_TYPES[index % INSTANCE_TYPES.length]!,
        'beta.kubernetes.io/instance-type': INSTANCE_TYPES[index % INSTANCE_TYPES.length]!,
        'topology.kubernetes.io/region': 'dc-east',
        'failure-domain.beta.kubernetes.io/region': 'dc-east',
        'topology.kubernetes.io/zone': `rack-${index % 40}`,
        'failure-domain.beta.kubernetes.io/zone': `rack-${index % 40}`,
      },
      annotations: {
        [`${MCO_GROUP}/controlPlaneTopology`]: 'HighlyAvailable',
        [`${MCO_GROUP}/currentConfig`]: current,
        [`${MCO_GROUP}/desiredConfig`]: desired,
        [`${MCO_GROUP}/reason`]: '',
        [`${MCO_GROUP}/state`]: current === desired ? 'Done' : 'Working',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
        'k8s.ovn.org/node-primary-ifaddr': JSON.stringify({ ipv4: `${ip}/16` }),
      },
    },
    spec: {
      providerID: `baremetalhost:///openshift-machine-api/${name.split('.')[0]}/${g.uuid()}`,
      ...(role === 'master' ? { taints: [{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }] } : {}),
    },
    status: {
      addresses: [
        { type: 'InternalIP', address: ip },
        { type: 'Hostname', address: name.split('.')[0] },
      ],
      capacity: {
        cpu: '64',
        'ephemeral-storage': '936104940Ki',
        'hugepages-1Gi': '0',
        'hugepages-2Mi': '0',
        memory: '263921212Ki',
        pods: '250',
      },
      allocatable: {
        cpu: '63500m',
        'ephemeral-storage': '861652406196',
        'hugepages-1Gi': '0',
        'hugepages-2Mi': '0',
        memory: '262770236Ki',
        pods: '250',
      },
      conditions: [
        ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
        ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
        ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
        ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
      ].map(([type, status, reason, message]) => ({
        type,
        status,
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: g.timestamp(60),
        reason,
        message,
      })),
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      images: IMAGES.map((image) => ({
        names: [
          `quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:${g.hex(64)}`,
          `registry.example.com/${image}:4.12`,
        ],
        sizeBytes: 300_000_000 + g.int(500_000_000),
      })),
      nodeInfo: {
        architecture: 'amd64',
        bootID: g.uuid(),
        containerRuntimeVersion: 'cri-o://1.25.4-4.rhaos4.12.gitb2c6c6d.el8',
        kernelVersion: '4.18.0-372.64.1.el8_6.x86_64',
        kubeProxyVersion: 'v1.25.11+1485cc9',
        kubeletVersion: 'v1.25.11+1485cc9',
        machineID: g.hex(32),
        operatingSystem: 'linux',
        osImage: 'Red Hat Enterprise Linux CoreOS 412.86.202307311610-0 (Ootpa)',
        systemUUID: g.uuid(),
      },
    },
  };
}

function yamlStream(objects: unknown[]): string {
  // lineWidth 0: data URLs stay on one line, as `oc get -o yaml` writes them.
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

/** A generated cluster: every object, nodes last (they are most of it), and what it holds. */
export interface GeneratedCluster {
  machineConfigs: Array<Record<string, unknown>>;
  pools: Array<Record<string, unknown>>;
  nodes: Array<Record<string, unknown>>;
  /** The rendered worker config the 1% of workers mid-rollout move to: what a bench rollout moves nodes to. */
  rolloutTarget: string;
  /** The current rendered config of each pool. */
  current: Record<PoolName, string>;
  nodesByPool: Record<PoolName, number>;
  rolloutNodes: number;
}

/** The cluster of `spec`, deterministic for its seed. */
export function generateCluster(spec: ClusterStateSpec): GeneratedCluster {
  if (!Number.isInteger(spec.nodes) || spec.nodes < 1)
    throw new Error(`cluster state: nodes must be a positive integer, got ${spec.nodes}`);
  if (!Number.isInteger(spec.renderedConfigs) || spec.renderedConfigs < MIN_RENDERED_CONFIGS) {
    throw new Error(
      `cluster state: at least ${MIN_RENDERED_CONFIGS} rendered configs (current per pool and a rollout target), got ${spec.renderedConfigs}`,
    );
  }
  const g = new Gen(seededRandom(spec.seed));
  const rendered = (pool: PoolName, withSctp: boolean, sctpFromBlog = false): RenderedConfig => ({
    name: `rendered-${pool}-${g.hex(32)}`,
    pool,
    withSctp,
    sctpFromBlog,
  });
  const current = {
    master: rendered('master', false),
    worker: rendered('worker', false),
    sctp: rendered('sctp', true),
  };
  const rolloutTarget = rendered('worker', false);
  const old: RenderedConfig[] = [];
  const order: PoolName[] = ['worker', 'sctp', 'worker', 'master'];
  for (let i = 0; old.length < spec.renderedConfigs - MIN_RENDERED_CONFIGS; i++) {
    const p = order[i % order.length]!;
    old.push(rendered(p, p === 'sctp', i % 2 === 0));
  }
  const poolUids: Record<PoolName, string> = { master: g.uuid(), worker: g.uuid(), sctp: g.uuid() };
  const machineConfigs = [current.master, current.worker, current.sctp, rolloutTarget, ...old].map((rc) =>
    renderedMachineConfig(g, rc, poolUids[rc.pool], spec.renderedConfigBytes),
  );
  const sctpConfig = {
    ignition: { version: IGNITION_VERSION },
    storage: {
      files: [
        { path: '/etc/modprobe.d/sctp-blacklist.conf', mode: 0o644, overwrite: true, contents: { source: 'data:,' } },
        {
          path: '/etc/modules-load.d/sctp-load.conf',
          mode: 0o644,
          overwrite: true,
          contents: { source: 'data:,sctp' },
        },
      ],
    },
  };
  const sshConfig = (role: string) => ({
    ignition: { version: IGNITION_VERSION },
    passwd: {
      users: [
        { name: 'core', sshAuthorizedKeys: [`ssh-ed25519 ${g.bytes(51).toString('base64')} ${role}@example.com`] },
      ],
    },
  });
  machineConfigs.push(
    sourceMachineConfig('load-sctp-module', 'sctp', sctpConfig),
    sourceMachineConfig('99-master-ssh', 'master', sshConfig('master')),
    sourceMachineConfig('99-worker-ssh', 'worker', sshConfig('worker')),
  );

  const sizes = poolSizes(spec.nodes);
  const rolloutNodes = Math.floor(sizes.worker / 100);
  const pools = [
    pool(g, 'master', current.master.name, current.master.name, sizes.master, 0),
    pool(
      g,
      'worker',
      current.worker.name,
      rolloutNodes > 0 ? rolloutTarget.name : current.worker.name,
      sizes.worker,
      rolloutNodes,
    ),
    pool(g, 'sctp', current.sctp.name, current.sctp.name, sizes.sctp, 0),
  ];
  const nodes: Array<Record<string, unknown>> = [];
  for (const poolName of ['master', 'worker', 'sctp'] as const) {
    for (let i = 0; i < sizes[poolName]; i++) {
      const cur = current[poolName].name;
      const inRollout = poolName === 'worker' && i < rolloutNodes;
      nodes.push(node(g, nodes.length, i, poolName, cur, inRollout ? rolloutTarget.name : cur));
    }
  }
  return {
    machineConfigs,
    pools,
    nodes,
    rolloutTarget: rolloutTarget.name,
    current: { master: current.master.name, worker: current.worker.name, sctp: current.sctp.name },
    nodesByPool: sizes,
    rolloutNodes,
  };
}

/** Writes the state into dir (created if missing) and says what is in it. */
export function writeClusterState(dir: string, spec: ClusterStateSpec): ClusterStateSummary {
  const started = performance.now();
  const cluster = generateCluster(spec);
  mkdirSync(dir, { recursive: true });
  let files = 0;
  let bytes = 0;
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    files++;
    bytes += Buffer.byteLength(text);
  };
  const sources = cluster.machineConfigs.filter(
    (mc) => !String((mc.metadata as { name: string }).name).startsWith('rendered-'),
  );
  for (const mc of cluster.machineConfigs) {
    if (!sources.includes(mc))
      write(`machineconfig-${(mc.metadata as { name: string }).name}.json`, JSON.stringify(mc));
  }
  write('machineconfigs-source.yaml', yamlStream(sources));
  write('machineconfigpools.yaml', yamlStream(cluster.pools));
  for (let i = 0; i < cluster.nodes.length; i += NODES_PER_FILE) {
    // The bulk of a large state, dumped as `oc get nodes -o json` does: a List.
    const items = cluster.nodes.slice(i, i + NODES_PER_FILE);
    write(
      `nodes-${String(i / NODES_PER_FILE).padStart(3, '0')}.json`,
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
    );
  }
  return {
    dir,
    nodes: spec.nodes,
    nodesByPool: cluster.nodesByPool,
    rolloutNodes: cluster.rolloutNodes,
    machineConfigs: cluster.machineConfigs.length,
    renderedConfigs: spec.renderedConfigs,
    pools: cluster.pools.length,
    files,
    bytes,
    generateMs: performance.now() - started,
  };
}

/**
 * The whole cluster as one `kind: List` document, as `oc get nodes,machineconfigs,machineconfigpools -o yaml`
 * (or `-o json`) prints it: written item by item, so that a dump of hundreds of MB never sits in memory whole.
 */
export function writeListDump(file: string, cluster: GeneratedCluster, format: 'yaml' | 'json'): number {
  const fd = openSync(file, 'w');
  let bytes = 0;
  const out = (text: string) => {
    bytes += writeSync(fd, text);
  };
  try {
    const items = [...cluster.machineConfigs, ...cluster.pools, ...cluster.nodes];
    if (format === 'json') {
      out('{\n    "apiVersion": "v1",\n    "items": [\n');
      items.forEach((item, i) =>
        out(`${JSON.stringify(item, null, 4).replace(/^/gm, '        ')}${i < items.length - 1 ? ',' : ''}\n`),
      );
      out('    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n');
    } else {
      out('apiVersion: v1\nitems:\n');
      for (const item of items)
        out(
          stringify(item, { lineWidth: 0 })
            .replace(/^(?=.)/gm, '  ')
            .replace(/^ {2}/, '- '),
        );
      out('kind: List\nmetadata:\n  resourceVersion: ""\n');
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}
