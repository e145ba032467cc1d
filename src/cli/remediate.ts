import { Option, type Command } from 'commander';
import type { NodeGroup } from '../cluster/assess.js';
import { loadClusterState } from '../cluster/offline.js';
import {
  describeLoadSctpModule,
  planRemediation,
  type NodeLabelFix,
  type PoolFix,
  type RemediationPlan,
} from '../cluster/remediation.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { KubeObject } from '../engine/types.js';
import { connect, CONTEXT_HELP, KUBECONFIG_DEFAULTS, liveSnapshot } from './kube.js';
import { clusterStateOption, collect, commandPolicy } from './options.js';
import { formatYamlStream } from './output/yaml.js';

export const REMEDIATE_FORMATS = ['text', 'yaml'] as const;
export type RemediateFormat = (typeof REMEDIATE_FORMATS)[number];

export interface RemediateOptions {
  clusterState?: string;
  kubeconfig?: string;
  context?: string;
  config?: string;
  output: RemediateFormat;
  /** Only these MachineConfigPools (repeatable --pool); every pool when empty. */
  pool: string[];
}

export function registerRemediateCommand(program: Command): void {
  program
    .command('remediate')
    .description(
      'print what makes the nodes carry SCTP: a MachineConfig per pool without SCTP, or an NFD NodeFeatureRule (exit 0, 2 bad input)',
    )
    .addOption(clusterStateOption())
    .option(
      '--kubeconfig <file>',
      `read the cluster state from a live cluster through this kubeconfig (default: ${KUBECONFIG_DEFAULTS})`,
    )
    .option('--context <name>', CONTEXT_HELP)
    .option('--config <file>', 'policy file (YAML); the openshift-baremetal preset without one')
    .option(
      '--pool <name>',
      'only this MachineConfigPool (repeatable); a pool the cluster does not have is an error',
      collect,
      [],
    )
    .addOption(
      new Option(
        '-o, --output <format>',
        'text (explanation and objects) or yaml (only the objects on stdout, for oc apply -f -)',
      )
        .choices(REMEDIATE_FORMATS)
        .default('text'),
    )
    .action(async (opts: RemediateOptions) => {
      process.exitCode = await remediate(opts);
    });
}

export async function remediate(opts: RemediateOptions): Promise<number> {
  const policy = commandPolicy(opts.config);
  const snapshot = opts.clusterState
    ? loadClusterState(opts.clusterState)
    : await liveSnapshot(await connect(opts.kubeconfig, opts.context), policy);
  const unknown = opts.pool.filter((p) => !snapshot.pools.some((x) => x.name === p));
  if (unknown.length > 0) {
    const known = snapshot.pools.map((p) => p.name).sort();
    process.stderr.write(
      `sctp-guard: remediate: --pool ${unknown.join(', ')}: no such MachineConfigPool; the cluster's pools: ${known.length > 0 ? known.join(', ') : 'none'}\n`,
    );
    return 2;
  }
  const plan = onlyPools(planRemediation(snapshot, policy), opts.pool);
  if (plan.unusable) {
    process.stderr.write(`sctp-guard: remediate: ${plan.unusable}\n`);
    return 2;
  }
  const objects = objectsOf(plan);
  const explanation = explain(plan, snapshot, opts);
  if (opts.output === 'yaml') {
    // stdout stays a clean YAML stream for `oc apply -f -`; the explanation goes to stderr.
    if (objects.length > 0) process.stdout.write(formatYamlStream(objects));
    process.stderr.write(explanation);
  } else {
    const shown = objects.map((o) => `# ${o.kind} ${o.metadata?.name}\n${formatYamlStream([o])}`).join('---\n');
    process.stdout.write(explanation + (shown ? `\n${shown}` : ''));
  }
  return 0;
}

/** The plan cut to the pools asked for (all of it when none are): nodes in no pool and other pools' nodes drop out. */
function onlyPools(plan: RemediationPlan, names: readonly string[]): RemediationPlan {
  if (names.length === 0) return plan;
  const asked = new Set(names);
  const inAsked = (g: NodeGroup) => g.pool !== undefined && asked.has(g.pool);
  return {
    ...plan,
    pools: plan.pools.filter((p) => asked.has(p.pool)),
    readyPools: plan.readyPools.filter((p) => asked.has(p)),
    unpooled: [],
    ...(plan.nodeLabel ? { nodeLabel: { ...plan.nodeLabel, lacking: plan.nodeLabel.lacking.filter(inAsked) } } : {}),
  };
}

/** What to apply: the MachineConfigs, then the NodeFeatureRule. */
export function objectsOf(plan: RemediationPlan): KubeObject[] {
  const out: KubeObject[] = plan.pools.flatMap((p) =>
    p.machineConfig ? [p.machineConfig as unknown as KubeObject] : [],
  );
  if (plan.nodeLabel && plan.nodeLabel.lacking.length > 0) out.push(plan.nodeLabel.nodeFeatureRule as KubeObject);
  return out;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function groupLine(g: NodeGroup): string {
  const names = g.sample.join(', ') + (g.count > g.sample.length ? `, ${g.count - g.sample.length} more` : '');
  return `${plural(g.count, 'node')} (${names}): ${g.reason}`;
}

function selfCommand(opts: RemediateOptions): string {
  const source = opts.clusterState
    ? ` --cluster-state ${opts.clusterState}`
    : `${opts.kubeconfig ? ` --kubeconfig ${opts.kubeconfig}` : ''}${opts.context ? ` --context ${opts.context}` : ''}`;
  return `sctp-guard remediate${source}${opts.config ? ` --config ${opts.config}` : ''}${opts.pool.map((p) => ` --pool ${p}`).join('')} -o yaml`;
}

function explain(plan: RemediationPlan, snapshot: ClusterSnapshot, opts: RemediateOptions): string {
  const lines: string[] = [];
  if (plan.machineConfigsAvailable) {
    const fixes = plan.pools.filter((p) => p.action === 'apply');
    for (const p of plan.pools) lines.push(...explainPool(p, snapshot), '');
    if (plan.unpooled.length > 0) {
      lines.push(
        `Nodes in no MachineConfigPool do not carry SCTP (no MachineConfig reaches them): ${plan.unpooled.map(groupLine).join('; ')}.`,
      );
      lines.push(
        '  Fix: add them to a pool (a pool nodeSelector that matches their labels), or load sctp on them by hand.',
        '',
      );
    }
    if (plan.pools.length === 0 && plan.unpooled.length === 0)
      lines.push(
        opts.pool.length > 0
          ? `Every node of pool ${opts.pool.join(', ')} carries SCTP: nothing to apply.`
          : 'Every node carries SCTP: nothing to apply.',
      );
    if (plan.readyPools.length > 0) lines.push(`Pools whose nodes carry SCTP: ${plan.readyPools.join(', ')}.`);
    if (fixes.length > 0) {
      lines.push(`Apply: ${selfCommand(opts)} | oc apply -f -`);
      lines.push('Check afterwards: sctp-guard audit (what the webhook would deny or warn about now).');
    }
  }
  if (plan.nodeLabel)
    lines.push(
      ...(plan.machineConfigsAvailable ? [''] : []),
      ...explainNodeLabel(plan.nodeLabel, plan.machineConfigsAvailable, opts),
    );
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function explainPool(p: PoolFix, snapshot: ClusterSnapshot): string[] {
  const lacking = p.lacking.reduce((n, g) => n + g.count, 0);
  const head = `Pool ${p.pool}: ${lacking} of ${plural(p.nodeCount, 'node')} do${lacking === 1 ? 'es' : ''} not carry SCTP.`;
  const why = p.lacking.map((g) => `  Why: ${groupLine(g)}.`);
  const watch = watchLines(p, snapshot);
  switch (p.action) {
    case 'wait':
      return [
        head,
        ...why,
        `  Fix: none to apply: the pool is rolling out a rendered config that loads sctp; wait for it to finish.`,
        ...watch,
      ];
    case 'manual':
      return [
        head,
        ...why,
        `  Fix: no MachineConfig can be written for this pool: ${p.problem}. Give the pool a machineConfigSelector (e.g. matchLabels ${'machineconfiguration.openshift.io/role'}: ${p.pool}).`,
      ];
    case 'apply': {
      const mc = p.machineConfig!;
      const labels = Object.entries(mc.metadata.labels)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      const others =
        p.alsoSelects.length > 0
          ? ` Its labels also match the machineConfigSelector of pool ${p.alsoSelects.join(', ')}, which roll${p.alsoSelects.length === 1 ? 's' : ''} out the same way.`
          : '';
      const batches = Math.ceil(p.nodeCount / p.maxUnavailable);
      return [
        head,
        ...why,
        `  Fix: MachineConfig ${mc.metadata.name} (the OpenShift docs' load-sctp-module: ${describeLoadSctpModule(p.ignitionVersion?.startsWith('2.') ? '2.x' : '3.x')}), Ignition ${p.versionSource}, label ${labels}.`,
        `  Next: the MCO renders a new config for pool ${p.pool} and updates its ${plural(p.nodeCount, 'node')} ${p.maxUnavailable} at a time (maxUnavailable ${p.maxUnavailable}, ${plural(batches, 'round')}): each node is cordoned, drained, rebooted into the new config and uncordoned.${others}`,
        ...watch,
      ];
    }
  }
}

function watchLines(p: PoolFix, snapshot: ClusterSnapshot): string[] {
  const selector = snapshot.pools.find((x) => x.name === p.pool)?.nodeSelector?.matchLabels;
  const nodes =
    selector && Object.keys(selector).length > 0
      ? `oc get nodes -l ${Object.entries(selector)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')} -w`
      : 'oc get nodes -w';
  return [
    `  Watch: oc get machineconfigpool ${p.pool} -w   (done when UPDATED is True and UPDATEDMACHINECOUNT equals MACHINECOUNT; DEGRADED True says why in oc describe mcp ${p.pool})`,
    `         ${nodes}`,
  ];
}

function explainNodeLabel(fix: NodeLabelFix, mco: boolean, opts: RemediateOptions): string[] {
  const { key, value } = fix.label;
  const lines: string[] = [];
  const total = fix.lacking.reduce((n, g) => n + g.count, 0);
  if (!mco)
    lines.push(
      'No MachineConfig data: this cluster has no Machine Config Operator (or its MachineConfigs are not readable), so sctp-guard knows a node carries SCTP by a node label.',
    );
  if (total === 0) {
    lines.push(`Every node has the label ${key}=${value}: nothing to apply.`);
    return lines;
  }
  lines.push(
    `${plural(total, 'node')} lack${total === 1 ? 's' : ''} the label ${key}=${value}: ${fix.lacking.map(groupLine).join('; ')}.`,
  );
  if (!mco) {
    lines.push(
      '1. Load the module on each node that should carry SCTP (as root on the node; systemd loads the files of /etc/modules-load.d/ at boot):',
      `     echo sctp > /etc/modules-load.d/sctp.conf`,
      `     grep -rlE '^(blacklist|install) sctp' /etc/modprobe.d/ /usr/lib/modprobe.d/ 2>/dev/null   # remove those lines: modules-load.d honours blacklists`,
      '     modprobe sctp && lsmod | grep -w sctp',
      "   If modprobe cannot find the module, install the kernel's extra modules first (RHEL, CentOS Stream, Fedora: dnf install kernel-modules-extra, which also ships /etc/modprobe.d/sctp-blacklist.conf).",
    );
  }
  lines.push(
    `${mco ? '' : '2. '}Label the nodes that load sctp with Node Feature Discovery: apply the NodeFeatureRule sctp-guard-sctp-loaded (kernel.loadedmodule, which nfd-worker reads from /proc/modules); nfd-master labels the nodes within a minute.`,
  );
  if (fix.labelProblem) lines.push(`   Note: ${fix.labelProblem}.`);
  if (!fix.inPolicy)
    lines.push(
      `${mco ? '' : '3. '}Tell sctp-guard about the label: in the policy file, sctpNodeLabel: {key: ${key}, value: "${value}"}.`,
    );
  lines.push(`Watch: kubectl get nodes -L ${key} -w`, `Apply: ${selfCommand(opts)} | kubectl apply -f -`);
  return lines;
}
