import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { AlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1/AlertmanagerConfig';
import { loadConfig } from '../../src/config/load.js';
import { projectsOf, resolveProjectCredentials } from '../../src/config/projects.js';
import { parseWebConfig } from '../../src/web/parse-web-config.js';
import { requireTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'helm', 'dis-exporter');
const HELM = join(ROOT, '.tools', 'helm');
const RELEASE = 'dis-exporter';
const NAMESPACE = 'monitoring';
const PROJECT_ID = '0123456789abcdef0123456789abcdef';

type Values = Record<string, unknown>;
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
type Rendered = { text: string; docs: Manifest[] };
type Model<T> = { readonly kind: string; new (data: never): T & { validate(): void } };

/** Every kind the chart may render, by apiVersion/kind, with its schema from kubernetes-models. */
const MODELS: Record<string, Model<object>> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/ServiceAccount': ServiceAccount,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
  'monitoring.coreos.com/v1alpha1/AlertmanagerConfig': AlertmanagerConfig,
};

/** What a user must set anyway: the exporter refuses to start without a project and a target. */
const REQUIRED_CONFIG = { dis: { projectId: PROJECT_ID }, targets: [{ stream: 'orders', task: '*' }] };
const REQUIRED: Values = { config: REQUIRED_CONFIG };

const WITH_CREDENTIALS: Values = {
  ...REQUIRED,
  credentials: { accessKey: 'AK-HELM-TEST-0001', secretKey: 'SK-helm-test-secret-0002' },
};

const ALL_ON: Values = {
  ...REQUIRED,
  shards: 3,
  existingSecret: 'dis-credentials',
  existingSecretKeys: { accessKey: 'ak', secretKey: 'sk' },
  serviceMonitor: { enabled: true, interval: '30s', scrapeTimeout: '5s', labels: { release: 'kube-prometheus-stack' } },
  prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  alertmanagerConfig: { enabled: true, labels: { alertmanagerConfig: 'main' } },
  grafanaDashboard: { enabled: true, annotations: { grafana_folder: 'DIS' } },
  networkPolicy: {
    enabled: true,
    ingressFrom: [
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
        podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
      },
    ],
  },
};

/** The scenarios every generic check (schemas, yamllint, labels) runs on. */
const SCENARIOS: Record<string, Values> = {
  'required values only': {},
  'with credentials': WITH_CREDENTIALS,
  'every optional part on': ALL_ON,
};

let workDir: string;
let valuesFiles = 0;

function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(HELM, args, {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(workDir, 'helm-cache'),
      HELM_CONFIG_HOME: join(workDir, 'helm-config'),
      HELM_DATA_HOME: join(workDir, 'helm-data'),
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Writes values for `helm -f`: JSON, as YAML 1.1 would read a plain `yes` as true where YAML 1.2 keeps a string. */
function valuesFile(values: Values): string {
  const file = join(workDir, `values-${++valuesFiles}.json`);
  writeFileSync(file, JSON.stringify(values));
  return file;
}

/**
 * The values with what every install must set merged under them (the chart refuses to render without a project id
 * and targets): `config.dis.projectId` and `config.targets` unless the values give their own.
 */
function withRequired(values: Values): Values {
  const config = (values.config ?? {}) as Values;
  const dis = { ...REQUIRED_CONFIG.dis, ...((config.dis ?? {}) as Values) };
  return { ...values, config: { ...REQUIRED_CONFIG, ...config, dis } };
}

/** `helm template` of exactly these values (`asIs`), or of these values with the required ones merged under them. */
function helmTemplate(values: Values, asIs = false) {
  const file = valuesFile(asIs ? values : withRequired(values));
  return helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, '-f', file]);
}

/** `helm template` output for these values (and the required ones); throws with helm's error when rendering fails. */
function template(values: Values = {}, asIs = false): Rendered {
  const result = helmTemplate(values, asIs);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const docs = parseAllDocuments(result.stdout).flatMap((doc) => {
    expect(doc.errors, 'YAML errors in the rendered output').to.deep.equal([]);
    const manifest = doc.toJS() as Manifest | null;
    return manifest === null ? [] : [manifest];
  });
  return { text: result.stdout, docs };
}

/** helm's error output for values the chart must refuse (the required ones merged under them unless `asIs`). */
function templateError(values: Values, asIs = false): string {
  const result = helmTemplate(values, asIs);
  expect(result.status, 'helm template should have failed').to.not.equal(0);
  return result.stderr;
}

/** The rendered objects of one kind (and name), as kubernetes-models objects. */
function all<T>(rendered: Rendered, model: Model<T>, name?: string): T[] {
  return rendered.docs
    .filter((doc) => doc.kind === model.kind && (name === undefined || doc.metadata.name === name))
    .map((doc) => new model(doc as never));
}

function one<T>(rendered: Rendered, model: Model<T>, name?: string): T {
  const found = all(rendered, model, name);
  expect(found, `${model.kind} ${name ?? ''}`).to.have.lengthOf(1);
  return found[0]!;
}

function kinds(rendered: Rendered): string[] {
  return rendered.docs.map((doc) => doc.kind).sort();
}

/** The pod template of the Deployment or, with shards > 1, of the StatefulSet. */
function podTemplate(rendered: Rendered): IPodTemplateSpec {
  const workloads = [...all(rendered, Deployment), ...all(rendered, StatefulSet)];
  expect(workloads).to.have.lengthOf(1);
  return workloads[0]!.spec!.template;
}

function container(rendered: Rendered) {
  const containers = podTemplate(rendered).spec!.containers;
  expect(containers).to.have.lengthOf(1);
  return containers[0]!;
}

/** The exporter config the chart rendered into its ConfigMap. */
function exporterConfig(rendered: Rendered): Record<string, any> {
  const data = one(rendered, ConfigMap, RELEASE).data!;
  expect(Object.keys(data)).to.deep.equal(['config.yaml']);
  return parse(data['config.yaml']!) as Record<string, any>;
}

function chartFile(path: string): string {
  return readFileSync(join(CHART, path), 'utf8');
}

describe('Helm chart helm/dis-exporter', function () {
  this.timeout(60_000);
  const rendered: Record<string, Rendered> = {};

  before(function () {
    this.timeout(180_000);
    workDir = mkdtempSync(join(tmpdir(), 'dis-exporter-helm-'));
    if (!existsSync(HELM)) {
      const install = spawnSync('bash', [join(ROOT, 'scripts', 'install-helm.sh')], { cwd: ROOT, encoding: 'utf8' });
      if (install.status !== 0) throw new Error(`scripts/install-helm.sh failed: ${install.stdout}${install.stderr}`);
    }
    for (const [name, values] of Object.entries(SCENARIOS)) rendered[name] = template(values);
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('passes helm lint --strict with the default values and with every optional part on', () => {
    for (const args of [[], ['-f', valuesFile(ALL_ON)]]) {
      const result = helm(['lint', '--strict', CHART, ...args]);
      expect(result.status, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.include('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders a Deployment, its Service, ConfigMap and ServiceAccount with only the required values', () => {
    expect(kinds(rendered['required values only']!)).to.deep.equal([
      'ConfigMap',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
    expect(kinds(rendered['with credentials']!)).to.deep.equal([
      'ConfigMap',
      'Deployment',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('renders a StatefulSet instead of the Deployment, and every optional part, when they are on', () => {
    expect(kinds(rendered['every optional part on']!)).to.deep.equal([
      'AlertmanagerConfig',
      'ConfigMap', // the exporter config
      'ConfigMap', // the Grafana dashboard
      'NetworkPolicy',
      'PodDisruptionBudget',
      'PrometheusRule',
      'Service',
      'Service', // headless, for the StatefulSet
      'ServiceAccount',
      'ServiceMonitor',
      'StatefulSet',
    ]);
  });

  it('renders only objects that pass the Kubernetes and prometheus-operator schemas', () => {
    for (const [scenario, { docs }] of Object.entries(rendered)) {
      for (const doc of docs) {
        const what = `${scenario}: ${doc.kind} ${doc.metadata.name}`;
        const model = MODELS[`${doc.apiVersion}/${doc.kind}`];
        expect(model, `${what}: unexpected apiVersion ${doc.apiVersion}`).to.not.equal(undefined);
        expect(() => new model!(doc as never).validate(), what).to.not.throw();
        expect(doc.metadata.namespace, what).to.equal(NAMESPACE);
        expect((doc.metadata as { labels?: Record<string, string> }).labels, what).to.include({
          'app.kubernetes.io/name': 'dis-exporter',
          'app.kubernetes.io/instance': RELEASE,
          'app.kubernetes.io/managed-by': 'Helm',
        });
      }
    }
  });

  it('renders YAML that passes yamllint -d relaxed, as do Chart.yaml and values.yaml', function () {
    requireTool(this, 'yamllint');
    for (const [scenario, { text }] of Object.entries(rendered)) {
      const result = spawnSync('yamllint', ['-d', 'relaxed', '-'], { input: text, encoding: 'utf8' });
      expect(result.status, `${scenario}:\n${result.stdout}${result.stderr}`).to.equal(0);
    }
    const sources = spawnSync('yamllint', ['-d', 'relaxed', 'Chart.yaml', 'values.yaml'], {
      cwd: CHART,
      encoding: 'utf8',
    });
    expect(sources.status, sources.stdout + sources.stderr).to.equal(0);
  });

  describe('workload', () => {
    it('runs one Deployment replica when shards is 1, and no PodDisruptionBudget that would block drains', () => {
      const deployment = one(rendered['required values only']!, Deployment);
      expect(deployment.spec!.replicas).to.equal(1);
      expect(all(rendered['required values only']!, StatefulSet)).to.deep.equal([]);
      expect(all(rendered['required values only']!, PodDisruptionBudget)).to.deep.equal([]);
      expect(exporterConfig(rendered['required values only']!)).to.not.have.property('shard');
    });

    it('runs a StatefulSet of `shards` pods with a headless Service, each polling its own shard', () => {
      const output = rendered['every optional part on']!;
      const statefulSet = one(output, StatefulSet);
      expect(statefulSet.spec!.replicas).to.equal(3);
      expect(statefulSet.spec!.serviceName).to.equal(`${RELEASE}-headless`);
      expect(statefulSet.spec!.podManagementPolicy).to.equal('Parallel');
      const headless = one(output, Service, `${RELEASE}-headless`);
      expect(headless.spec!.clusterIP).to.equal('None');
      expect(headless.spec!.selector).to.deep.equal(statefulSet.spec!.selector.matchLabels);
      expect(all(output, Deployment)).to.deep.equal([]);

      const config = exporterConfig(output);
      expect(config.shard).to.deep.equal({ total: 3, index: 0, fromHostname: true });
      expect(config.targets).to.deep.equal([{ stream: 'orders', task: '*' }]);
    });

    it('renders a config the exporter itself accepts, where pod <name>-2 takes shard 2 of 3', () => {
      const config = exporterConfig(rendered['every optional part on']!);
      // The files the pod would find in the mounted Secret, here in a temporary directory.
      writeFileSync(join(workDir, 'ak'), 'AK-FROM-FILE\n');
      writeFileSync(join(workDir, 'sk'), 'SK-FROM-FILE\n');
      expect(config.auth).to.deep.equal({
        accessKeyFile: '/etc/dis-exporter/secrets/accessKey',
        secretKeyFile: '/etc/dis-exporter/secrets/secretKey',
      });
      config.auth = { accessKeyFile: join(workDir, 'ak'), secretKeyFile: join(workDir, 'sk') };
      const file = join(workDir, 'config.yaml');
      writeFileSync(file, stringify(config));

      const loaded = loadConfig({ file, env: { HOSTNAME: `${RELEASE}-2` } });
      expect(loaded.shard).to.deep.equal({ index: 2, total: 3, fromHostname: true });
      expect(loaded.dis.projectId).to.equal(PROJECT_ID);
      expect(loaded.server.port).to.equal(9873);
    });

    it('keeps at most one shard down in voluntary disruptions', () => {
      const output = rendered['every optional part on']!;
      const budget = one(output, PodDisruptionBudget);
      expect(budget.spec!.maxUnavailable).to.equal(1);
      expect(budget.spec!.selector!.matchLabels).to.deep.equal(one(output, StatefulSet).spec!.selector.matchLabels);
      const off = template({ ...ALL_ON, podDisruptionBudget: { enabled: false } });
      expect(all(off, PodDisruptionBudget)).to.deep.equal([]);
    });

    it('runs as uid/gid 65534, non-root, read-only, without privileges, capabilities or a token', () => {
      for (const output of [rendered['required values only']!, rendered['every optional part on']!]) {
        const pod = podTemplate(output).spec!;
        expect(pod.securityContext).to.deep.equal({
          runAsNonRoot: true,
          runAsUser: 65534,
          runAsGroup: 65534,
          fsGroup: 65534,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(container(output).securityContext).to.deep.equal({
          runAsNonRoot: true,
          runAsUser: 65534,
          runAsGroup: 65534,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(pod.automountServiceAccountToken).to.equal(false);
        // A Service named dis-exporter would otherwise inject DIS_EXPORTER_PORT=tcp://…, the exporter's port variable.
        expect(pod.enableServiceLinks).to.equal(false);
        expect(container(output).volumeMounts).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
        expect(pod.volumes).to.deep.include({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
      }
    });

    it('probes /-/healthy for liveness and /-/ready for readiness on the http port 9873', () => {
      const exporter = container(rendered['required values only']!);
      expect(exporter.ports).to.deep.equal([{ name: 'http', containerPort: 9873, protocol: 'TCP' }]);
      expect(exporter.livenessProbe!.httpGet).to.deep.equal({ path: '/-/healthy', port: 'http' });
      expect(exporter.readinessProbe!.httpGet).to.deep.equal({ path: '/-/ready', port: 'http' });
      expect(exporter.resources!.requests).to.have.keys('cpu', 'memory');
      expect(exporter.resources!.limits).to.have.keys('memory');
      const service = one(rendered['required values only']!, Service);
      expect(service.spec!.ports).to.deep.equal([{ name: 'http', port: 9873, targetPort: 'http', protocol: 'TCP' }]);

      const otherPort = template({ config: { server: { port: 9999 } } });
      expect(container(otherPort).ports![0]!.containerPort).to.equal(9999);
    });

    it('reads its config from the mounted ConfigMap, and rolls the pods when the config changes', () => {
      const exporter = container(rendered['required values only']!);
      expect(exporter.env![0]).to.deep.equal({ name: 'DIS_EXPORTER_CONFIG', value: '/etc/dis-exporter/config.yaml' });
      expect(exporter.volumeMounts).to.deep.include({ name: 'config', mountPath: '/etc/dis-exporter', readOnly: true });

      const checksum = (output: Rendered) => podTemplate(output).metadata!.annotations!['checksum/config'];
      const before = checksum(template(REQUIRED));
      expect(before).to.match(/^[0-9a-f]{64}$/);
      const changed = template({ ...REQUIRED, config: { ...(REQUIRED.config as Values), poll: { interval: '30s' } } });
      expect(checksum(changed)).to.not.equal(before);
      expect(checksum(template({ ...REQUIRED, podLabels: { team: 'data' } }))).to.equal(before);
    });

    it('uses the chart appVersion (the package version) as the default image tag', () => {
      const chart = parse(chartFile('Chart.yaml')) as { appVersion: string };
      const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
      expect(chart.appVersion).to.equal(pkg.version);
      expect(container(rendered['required values only']!).image).to.equal(`dis-exporter:${chart.appVersion}`);
      expect(container(rendered['required values only']!).imagePullPolicy).to.equal('IfNotPresent');

      const custom = template({
        image: { repository: 'swr.cn-north-4.myhuaweicloud.com/org/dis-exporter', tag: '1.2.3', pullPolicy: 'Always' },
        imagePullSecrets: [{ name: 'swr-pull' }],
      });
      expect(container(custom).image).to.equal('swr.cn-north-4.myhuaweicloud.com/org/dis-exporter:1.2.3');
      expect(container(custom).imagePullPolicy).to.equal('Always');
      expect(podTemplate(custom).spec!.imagePullSecrets).to.deep.equal([{ name: 'swr-pull' }]);
    });

    it('passes pod placement, labels, annotations and extra environment through', () => {
      const output = template({
        podAnnotations: { 'example.com/a': 'b' },
        podLabels: { team: 'data' },
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
        affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } },
        extraEnv: [{ name: 'LOG_LEVEL', value: 'debug' }],
      });
      const pod = podTemplate(output);
      expect(pod.metadata!.annotations).to.include({ 'example.com/a': 'b' });
      expect(pod.metadata!.labels).to.include({ team: 'data', 'app.kubernetes.io/name': 'dis-exporter' });
      expect(pod.spec!.nodeSelector).to.deep.equal({ 'kubernetes.io/os': 'linux' });
      expect(pod.spec!.tolerations).to.have.lengthOf(1);
      expect(pod.spec!.affinity).to.have.property('nodeAffinity');
      expect(container(output).env).to.deep.equal([
        { name: 'DIS_EXPORTER_CONFIG', value: '/etc/dis-exporter/config.yaml' },
        { name: 'NODE_OPTIONS', value: '--max-old-space-size=128' },
        { name: 'LOG_LEVEL', value: 'debug' },
      ]);
    });

    it('caps the V8 heap at 50% of the memory limit, or at nodeHeapMB, or not at all', () => {
      const heapOption = (values: Record<string, unknown>): string | undefined =>
        container(template(values)).env?.find((env) => env.name === 'NODE_OPTIONS')?.value;
      const limit = (memory: string | null) => ({ resources: { limits: { memory } } });
      expect(heapOption({})).to.equal('--max-old-space-size=128');
      expect(heapOption(limit('1Gi'))).to.equal('--max-old-space-size=512');
      expect(heapOption(limit('512M'))).to.equal('--max-old-space-size=244');
      expect(heapOption(limit('2G'))).to.equal('--max-old-space-size=953');
      expect(heapOption(limit('320Mi'))).to.equal('--max-old-space-size=160');
      expect(heapOption(limit(null))).to.equal(undefined);
      expect(heapOption(limit('0.5Gi'))).to.equal(undefined);
      expect(heapOption({ nodeHeapMB: 300 })).to.equal('--max-old-space-size=300');
      expect(heapOption({ nodeHeapMB: 0 })).to.equal(undefined);
    });

    it('creates a ServiceAccount with workload identity annotations, or uses a given one', () => {
      const annotated = template({ serviceAccount: { annotations: { 'example.com/role': 'dis-reader' } } });
      const account = one(annotated, ServiceAccount);
      expect(account.metadata!.annotations).to.deep.equal({ 'example.com/role': 'dis-reader' });
      expect(podTemplate(annotated).spec!.serviceAccountName).to.equal(account.metadata!.name);

      const existing = template({ serviceAccount: { create: false, name: 'shared' } });
      expect(all(existing, ServiceAccount)).to.deep.equal([]);
      expect(podTemplate(existing).spec!.serviceAccountName).to.equal('shared');
    });
  });

  describe('credentials', () => {
    it('puts credentials in a Secret mounted as files and wires the files into the config, never env or args', () => {
      const output = rendered['with credentials']!;
      const secret = one(output, Secret);
      const decoded = Object.fromEntries(
        Object.entries(secret.data!).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
      );
      expect(decoded).to.deep.equal({ accessKey: 'AK-HELM-TEST-0001', secretKey: 'SK-helm-test-secret-0002' });

      const pod = podTemplate(output).spec!;
      const config = pod.volumes!.find((volume) => volume.name === 'config')!;
      expect(config.projected!.sources).to.deep.include({
        secret: {
          name: secret.metadata!.name,
          items: [
            { key: 'accessKey', path: 'secrets/accessKey' },
            { key: 'secretKey', path: 'secrets/secretKey' },
          ],
        },
      });
      expect(exporterConfig(output).auth).to.deep.equal({
        accessKeyFile: '/etc/dis-exporter/secrets/accessKey',
        secretKeyFile: '/etc/dis-exporter/secrets/secretKey',
      });

      const exporter = container(output);
      expect(exporter.env!.every((variable) => variable.valueFrom === undefined)).to.equal(true);
      expect(exporter.envFrom).to.equal(undefined);
      expect(exporter.args).to.equal(undefined);
      expect(exporter.command).to.equal(undefined);
      // The keys themselves appear nowhere else, and only the Secret holds them (base64).
      expect(output.text).to.not.include('AK-HELM-TEST-0001').and.not.include('SK-helm-test-secret-0002');
      const holders = output.docs.filter((doc) => JSON.stringify(doc).includes(secret.data!['secretKey']!));
      expect(holders.map((doc) => doc.kind)).to.deep.equal(['Secret']);
      // Changed credentials roll the pods.
      expect(podTemplate(output).metadata!.annotations).to.have.property('checksum/secret');
    });

    it('mounts an existing Secret with its own key names instead, and renders no Secret', () => {
      const output = rendered['every optional part on']!;
      expect(all(output, Secret)).to.deep.equal([]);
      const config = podTemplate(output).spec!.volumes!.find((volume) => volume.name === 'config')!;
      expect(config.projected!.sources).to.deep.include({
        secret: {
          name: 'dis-credentials',
          items: [
            { key: 'ak', path: 'secrets/accessKey' },
            { key: 'sk', path: 'secrets/secretKey' },
          ],
        },
      });
      expect(podTemplate(output).metadata!.annotations).to.not.have.property('checksum/secret');
      const both = template({ ...WITH_CREDENTIALS, existingSecret: 'dis-credentials' });
      expect(all(both, Secret), 'existingSecret wins over credentials').to.deep.equal([]);
    });

    it('mounts no Secret and leaves auth alone when no credentials are given', () => {
      const output = rendered['required values only']!;
      const config = podTemplate(output).spec!.volumes!.find((volume) => volume.name === 'config')!;
      expect(config.projected!.sources!.map((source) => Object.keys(source))).to.deep.equal([['configMap']]);
      expect(exporterConfig(output)).to.not.have.property('auth');
    });

    it('mounts the IAM password as a file and wires it to auth.iam.passwordFile when config.auth.iam is set', () => {
      const iam = { endpoint: 'https://iam.cn-north-4.myhuaweicloud.com', domain: 'acme', username: 'dis-monitor' };
      const output = template({ config: { auth: { iam } }, credentials: { iamPassword: 'IAM-helm-test-password-3' } });
      const secret = one(output, Secret);
      expect(Object.keys(secret.data!)).to.deep.equal(['iamPassword']);
      expect(Buffer.from(secret.data!['iamPassword']!, 'base64').toString('utf8')).to.equal('IAM-helm-test-password-3');
      const config = podTemplate(output).spec!.volumes!.find((volume) => volume.name === 'config')!;
      expect(config.projected!.sources).to.deep.include({
        secret: { name: secret.metadata!.name, items: [{ key: 'iamPassword', path: 'secrets/iamPassword' }] },
      });
      expect(exporterConfig(output).auth).to.deep.equal({
        iam: { ...iam, passwordFile: '/etc/dis-exporter/secrets/iamPassword' },
      });
      expect(output.text).to.not.include('IAM-helm-test-password-3');
      // The exporter accepts the rendered config, with the password file where the pod would find it.
      const rendered = exporterConfig(template({ ...REQUIRED, config: { ...REQUIRED_CONFIG, auth: { iam } } }));
      const passwordFile = join(workDir, 'iam-password');
      writeFileSync(passwordFile, 'IAM-FROM-FILE\n');
      rendered.auth.iam.passwordFile = passwordFile;
      const file = join(workDir, 'iam-config.yaml');
      writeFileSync(file, stringify(rendered));
      expect(loadConfig({ file, env: {} }).auth.iam).to.deep.equal({ ...iam, password: '', passwordFile });

      const existing = template({
        config: { auth: { iam } },
        existingSecret: 'dis-iam',
        existingSecretKeys: { iamPassword: 'password' },
      });
      expect(all(existing, Secret)).to.deep.equal([]);
      const mounted = podTemplate(existing).spec!.volumes!.find((volume) => volume.name === 'config')!;
      expect(mounted.projected!.sources).to.deep.include({
        secret: { name: 'dis-iam', items: [{ key: 'password', path: 'secrets/iamPassword' }] },
      });

      expect(templateError({ config: { auth: { iam: { ...iam, password: 'x' } } } })).to.include(
        'config.auth.iam.password: credentials do not belong in the ConfigMap; use credentials.iamPassword or existingSecret',
      );
      expect(templateError({ ...WITH_CREDENTIALS, config: { ...REQUIRED_CONFIG, auth: { iam } } })).to.include(
        'credentials.accessKey/secretKey and config.auth.iam: choose one way to authenticate',
      );
      expect(templateError({ credentials: { iamPassword: 'x' } })).to.include(
        'credentials.iamPassword needs config.auth.iam (endpoint, domain, username)',
      );
    });

    it('mounts a projected service-account token and wires it to auth.oidc.idTokenFile with workloadIdentity', () => {
      const oidc = { endpoint: 'https://iam.cn-north-4.myhuaweicloud.com', idpId: 'cce-cluster-idp' };
      const values = {
        config: { auth: { oidc } },
        workloadIdentity: { enabled: true, audience: 'dis-exporter-client', expirationSeconds: 7200 },
        serviceAccount: { annotations: { 'example.com/role': 'dis-reader' } },
      };
      const output = template(values);
      const tokenFile = '/var/run/secrets/tokens/dis-exporter/oidc-token';
      expect(exporterConfig(output).auth).to.deep.equal({ oidc: { ...oidc, idTokenFile: tokenFile } });
      expect(all(output, Secret)).to.deep.equal([]);
      const pod = podTemplate(output).spec!;
      expect(pod.volumes!.find((volume) => volume.name === 'oidc-token')).to.deep.equal({
        name: 'oidc-token',
        projected: {
          defaultMode: 288,
          sources: [
            { serviceAccountToken: { audience: 'dis-exporter-client', expirationSeconds: 7200, path: 'oidc-token' } },
          ],
        },
      });
      expect(container(output).volumeMounts).to.deep.include({
        name: 'oidc-token',
        mountPath: '/var/run/secrets/tokens/dis-exporter',
        readOnly: true,
      });
      // The projected token needs no API token mount.
      expect(pod.automountServiceAccountToken).to.equal(false);
      expect(one(output, ServiceAccount).metadata!.annotations).to.deep.equal({ 'example.com/role': 'dis-reader' });
      // Another path, and the exporter accepts the rendered config with a token where the pod would find it.
      const moved = template({
        ...values,
        workloadIdentity: { ...values.workloadIdentity, tokenPath: '/var/oidc/jwt' },
      });
      expect(container(moved).volumeMounts).to.deep.include({
        name: 'oidc-token',
        mountPath: '/var/oidc',
        readOnly: true,
      });
      const rendered = exporterConfig(moved);
      const jwt = join(workDir, 'jwt');
      writeFileSync(jwt, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n');
      rendered.auth.oidc.idTokenFile = jwt;
      const file = join(workDir, 'oidc-config.yaml');
      writeFileSync(file, stringify(rendered));
      expect(loadConfig({ file, env: {} }).auth.oidc).to.deep.equal({ ...oidc, idTokenFile: jwt });

      expect(templateError({ workloadIdentity: { enabled: true } })).to.include(
        'workloadIdentity.enabled needs:\n- workloadIdentity.audience is empty: set it to the Client ID of the IAM ' +
          'identity provider\n- config.auth.oidc.endpoint is empty: set it to the IAM endpoint, e.g. ' +
          'https://iam.cn-north-4.myhuaweicloud.com\n- config.auth.oidc.idpId is empty: set it to the ID of the IAM ' +
          'identity provider',
      );
      expect(templateError({ ...values, existingSecret: 'dis-credentials' })).to.include(
        'workloadIdentity.enabled and credentials/existingSecret: choose one way to authenticate',
      );
    });

    it("wires the projected token into each project's own auth.oidc, and asks for the top-level one only when used", () => {
      const workloadIdentity = { enabled: true, audience: 'dis-exporter-client' };
      const OTHER_PROJECT_ID = 'fedcba9876543210fedcba9876543210';
      const tokenFile = '/var/run/secrets/tokens/dis-exporter/oidc-token';
      const north = { endpoint: 'https://iam.cn-north-4.myhuaweicloud.com', idpId: 'cce-north' };
      const south = { endpoint: 'https://iam.ap-southeast-1.myhuaweicloud.com', idpId: 'cce-south' };
      const project = (projectId: string, region: string, auth?: object) => ({
        projectId,
        endpoint: `https://dis.${region}.myhuaweicloud.com`,
        region,
        targets: [{ stream: 'orders', task: '*' }],
        ...(auth === undefined ? {} : { auth }),
      });
      // One project on the top-level auth, one with an auth.oidc of its own: both read the mounted token.
      const mixed = [project(PROJECT_ID, 'cn-north-4'), project(OTHER_PROJECT_ID, 'ap-southeast-1', { oidc: south })];
      const config = exporterConfig(
        template({ workloadIdentity, config: { auth: { oidc: north }, projects: mixed } }, true),
      );
      expect(config.auth).to.deep.equal({ oidc: { ...north, idTokenFile: tokenFile } });
      expect(config.projects.map((entry: { auth?: unknown }) => entry.auth)).to.deep.equal([
        undefined,
        { oidc: { ...south, idTokenFile: tokenFile } },
      ]);
      // The exporter accepts it, each project exchanging the token at its own identity provider.
      const jwt = join(workDir, 'projects-jwt');
      writeFileSync(jwt, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n');
      const file = join(workDir, 'projects-oidc-config.yaml');
      writeFileSync(file, stringify(config).replaceAll(tokenFile, jwt));
      const loaded = loadConfig({ file, env: {} });
      expect(resolveProjectCredentials(projectsOf(loaded))).to.deep.equal(
        new Map([
          [PROJECT_ID, { kind: 'oidc', ...north, idTokenFile: jwt }],
          [OTHER_PROJECT_ID, { kind: 'oidc', ...south, idTokenFile: jwt }],
        ]),
      );
      // Every project with its own auth: no top-level auth.oidc is needed, nor added.
      const own = [project(PROJECT_ID, 'cn-north-4', { oidc: north }), mixed[1]!];
      expect(exporterConfig(template({ workloadIdentity, config: { projects: own } }, true)).auth).to.equal(undefined);
      expect(templateError({ workloadIdentity, config: { projects: mixed } }, true)).to.include(
        'workloadIdentity.enabled needs:\n- config.auth.oidc.endpoint is empty: set it to the IAM endpoint, e.g. ' +
          'https://iam.cn-north-4.myhuaweicloud.com\n- config.auth.oidc.idpId is empty: set it to the ID of the IAM ' +
          'identity provider',
      );
    });

    it('refuses credentials inline in the config, and half a key pair', () => {
      for (const key of ['accessKey', 'secretKey', 'securityToken']) {
        expect(templateError({ config: { auth: { [key]: 'x' } } })).to.include(
          `config.auth.${key}: credentials do not belong in the ConfigMap; use credentials.accessKey/secretKey or existingSecret`,
        );
      }
      expect(templateError({ credentials: { accessKey: 'AK' } })).to.include(
        'credentials: set both credentials.accessKey and credentials.secretKey (or existingSecret)',
      );
    });
  });

  describe('web config', () => {
    const TLS_SECRET_MOUNT = { name: 'tls', mountPath: '/etc/dis-exporter-tls', readOnly: true };
    const WEB: Values = {
      ...REQUIRED,
      webConfig: {
        tls_server_config: { cert_file: '/etc/dis-exporter-tls/tls.crt', key_file: '/etc/dis-exporter-tls/tls.key' },
        basic_auth_users: { prometheus: '$2b$04$TQayRl/mqW0w86piENDtwO4Jj.1Oi8Rfawtlsa8Kl30IVQWbH01P6' },
      },
      extraVolumes: [{ name: 'tls', secret: { secretName: 'dis-exporter-tls' } }],
      extraVolumeMounts: [TLS_SECRET_MOUNT],
      serviceMonitor: {
        enabled: true,
        tlsConfig: { ca: { secret: { name: 'dis-exporter-tls', key: 'ca.crt' } }, serverName: 'dis-exporter' },
        basicAuth: { username: { name: 'scrape', key: 'user' }, password: { name: 'scrape', key: 'password' } },
      },
    };

    it('renders webConfig into a Secret, mounts it next to the config and passes --web.config.file', () => {
      const output = template(WEB);
      const secret = one(output, Secret, `${RELEASE}-web-config`);
      const webYml = Buffer.from(secret.data!['web.yml']!, 'base64').toString('utf8');
      expect(parse(webYml)).to.deep.equal(WEB.webConfig);
      // What the exporter itself makes of it.
      expect(parseWebConfig(parse(webYml), '/etc/dis-exporter')).to.have.property('config');
      const pod = podTemplate(output);
      const config = pod.spec!.volumes!.find((volume) => volume.name === 'config')!;
      expect(config.projected!.sources).to.deep.include({
        secret: { name: `${RELEASE}-web-config`, items: [{ key: 'web.yml', path: 'web.yml' }] },
      });
      const exporter = container(output);
      expect(exporter.args).to.deep.equal(['--web.config.file', '/etc/dis-exporter/web.yml']);
      expect(exporter.volumeMounts).to.deep.include(TLS_SECRET_MOUNT);
      expect(pod.metadata!.annotations!['checksum/web-config']).to.match(/^[0-9a-f]{64}$/);
      // The hash is in the Secret only.
      expect(output.text).to.not.include('$2b$04$');
    });

    it('probes and scrapes over HTTPS with TLS, and probes by TCP when clients need a certificate', () => {
      const output = template(WEB);
      const exporter = container(output);
      expect(exporter.livenessProbe!.httpGet).to.deep.equal({ path: '/-/healthy', port: 'http', scheme: 'HTTPS' });
      expect(exporter.readinessProbe!.httpGet).to.deep.equal({ path: '/-/ready', port: 'http', scheme: 'HTTPS' });
      expect(one(output, ServiceMonitor).spec.endpoints).to.deep.equal([
        {
          port: 'http',
          path: '/metrics',
          scheme: 'https',
          interval: '60s',
          scrapeTimeout: '10s',
          tlsConfig: (WEB.serviceMonitor as Values).tlsConfig,
          basicAuth: (WEB.serviceMonitor as Values).basicAuth,
        },
      ]);
      const mtls = template({
        ...WEB,
        webConfig: {
          tls_server_config: {
            cert_file: '/etc/dis-exporter-tls/tls.crt',
            key_file: '/etc/dis-exporter-tls/tls.key',
            client_ca_file: '/etc/dis-exporter-tls/ca.crt',
            client_auth_type: 'RequireAndVerifyClientCert',
          },
        },
      });
      expect(container(mtls).livenessProbe).to.not.have.property('httpGet');
      expect(container(mtls).livenessProbe).to.deep.include({ tcpSocket: { port: 'http' } });
      expect(container(mtls).readinessProbe).to.deep.include({ tcpSocket: { port: 'http' } });
      expect(
        container(template({ ...REQUIRED, webConfig: { basic_auth_users: {} } })).livenessProbe!.httpGet,
      ).to.deep.equal({ path: '/-/healthy', port: 'http' });
    });

    it('refuses a webConfig key the exporter does not know', () => {
      expect(templateError({ ...REQUIRED, webConfig: { tls_config: {} } })).to.include('webConfig');
    });
  });

  describe('monitoring', () => {
    it('scrapes the metrics Service (not the headless one) with the configured interval, timeout and labels', () => {
      const output = rendered['every optional part on']!;
      const monitor = one(output, ServiceMonitor);
      expect(monitor.metadata!.labels).to.include({ release: 'kube-prometheus-stack' });
      expect(monitor.spec.namespaceSelector).to.deep.equal({ matchNames: [NAMESPACE] });
      expect(monitor.spec.endpoints).to.deep.equal([
        { port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '5s' },
      ]);
      const selector = monitor.spec.selector.matchLabels!;
      // job="dis-exporter" whatever the release is called, as the DisExporterDown alert expects.
      expect(monitor.spec.jobLabel).to.equal('app.kubernetes.io/name');
      expect(one(output, Service, RELEASE).metadata!.labels!['app.kubernetes.io/name']).to.equal('dis-exporter');
      const selects = (service: Service) =>
        Object.entries(selector).every(([key, value]) => service.metadata!.labels![key] === value);
      expect(
        all(output, Service)
          .filter(selects)
          .map((service) => service.metadata!.name),
      ).to.deep.equal([RELEASE]);
    });

    it('turns files/alerts.yaml into a PrometheusRule with exactly its groups', () => {
      const rule = one(rendered['every optional part on']!, PrometheusRule);
      const file = parse(chartFile('files/alerts.yaml')) as { groups: unknown[] };
      expect(file.groups).to.be.an('array').that.is.not.empty;
      expect(rule.spec.groups).to.deep.equal(file.groups);
      expect(rule.metadata!.labels).to.include({ release: 'kube-prometheus-stack' });
    });

    it('ships files/dashboard.json in a ConfigMap for the Grafana sidecar, label configurable', () => {
      const dashboard = chartFile('files/dashboard.json');
      const defaultLabel = one(rendered['every optional part on']!, ConfigMap, `${RELEASE}-dashboard`);
      expect(defaultLabel.metadata!.labels).to.include({ grafana_dashboard: '1' });
      expect(defaultLabel.metadata!.annotations).to.deep.equal({ grafana_folder: 'DIS' });
      const json = defaultLabel.data!['dis-exporter.json']!;
      expect(json.trimEnd()).to.equal(dashboard.trimEnd());
      expect(JSON.parse(json)).to.deep.equal(JSON.parse(dashboard));

      const custom = template({
        grafanaDashboard: { enabled: true, labelKey: 'dashboards', labelValue: 'dis', namespace: 'grafana' },
      });
      const configMap = one(custom, ConfigMap, `${RELEASE}-dashboard`);
      expect(configMap.metadata!.labels).to.include({ dashboards: 'dis' }).and.not.have.property('grafana_dashboard');
      expect(configMap.metadata!.namespace).to.equal('grafana');
    });

    it('allows ingress to port http from the given peers only, and leaves egress open unless rules are given', () => {
      const policy = one(rendered['every optional part on']!, NetworkPolicy);
      expect(policy.spec!.podSelector.matchLabels).to.deep.equal(
        one(rendered['every optional part on']!, StatefulSet).spec!.selector.matchLabels,
      );
      expect(policy.spec!.policyTypes).to.deep.equal(['Ingress']);
      expect(policy.spec!.ingress).to.deep.equal([
        { ports: [{ port: 'http', protocol: 'TCP' }], from: (ALL_ON.networkPolicy as Values).ingressFrom },
      ]);
      expect(policy.spec!.egress).to.equal(undefined);

      const egress = [{ ports: [{ port: 53, protocol: 'UDP' }] }];
      const restricted = one(template({ networkPolicy: { enabled: true, egress } }), NetworkPolicy);
      expect(restricted.spec!.policyTypes).to.deep.equal(['Ingress', 'Egress']);
      expect(restricted.spec!.egress).to.deep.equal(egress);
      expect(restricted.spec!.ingress).to.deep.equal([{ ports: [{ port: 'http', protocol: 'TCP' }] }]);
    });
  });

  describe('conventions', () => {
    it('puts image.registry in front of the repository, and image.digest wins over the tag', () => {
      const image = (values: Values) => container(template({ image: values })).image;
      const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
      expect(image({ registry: 'swr.cn-north-4.myhuaweicloud.com', repository: 'org/dis-exporter' })).to.equal(
        'swr.cn-north-4.myhuaweicloud.com/org/dis-exporter:0.1.0',
      );
      expect(image({ registry: 'registry.example.com:5000', repository: 'dis-exporter', tag: '1.2.3' })).to.equal(
        'registry.example.com:5000/dis-exporter:1.2.3',
      );
      expect(image({ repository: 'org/dis-exporter', tag: '1.2.3', digest: DIGEST })).to.equal(
        `org/dis-exporter@${DIGEST}`,
      );
      expect(image({ registry: 'ghcr.io', repository: 'org/dis-exporter', digest: DIGEST })).to.equal(
        `ghcr.io/org/dis-exporter@${DIGEST}`,
      );
      // The version label still names the release, not the digest.
      const pinned = template({ image: { tag: '1.2.3', digest: DIGEST } });
      expect(one(pinned, Deployment).metadata!.labels!['app.kubernetes.io/version']).to.equal('1.2.3');
      expect(templateError({ image: { digest: 'abc' } })).to.include(
        "image.digest: Does not match pattern '^$|^sha256:[a-f0-9]{64}$'",
      );
      expect(templateError({ image: { registry: 'https://ghcr.io/' } })).to.include(
        'image.registry: Does not match pattern',
      );
    });

    it('passes extraArgs after its own arguments, and envFrom, initContainers and extraContainers through', () => {
      const envFrom = [{ configMapRef: { name: 'dis-env' } }, { secretRef: { name: 'dis-secrets' }, prefix: 'X_' }];
      const init = { name: 'wait-for-proxy', image: 'busybox:1.36', command: ['sh', '-c', 'true'] };
      const sidecar = { name: 'proxy', image: 'envoyproxy/envoy:v1.30.0', ports: [{ containerPort: 3128 }] };
      const output = template({
        extraArgs: ['--config', '/etc/my-config/config.yaml'],
        envFrom,
        initContainers: [init],
        extraContainers: [sidecar],
      });
      const pod = podTemplate(output).spec!;
      expect(pod.initContainers).to.deep.equal([init]);
      expect(pod.containers.map((c) => c.name)).to.deep.equal(['dis-exporter', 'proxy']);
      expect(pod.containers[1]).to.deep.equal(sidecar);
      const exporter = pod.containers[0]!;
      expect(exporter.args).to.deep.equal(['--config', '/etc/my-config/config.yaml']);
      expect(exporter.envFrom).to.deep.equal(envFrom);

      const withWebConfig = template({ webConfig: { basic_auth_users: {} }, extraArgs: ['--check-config'] });
      expect(container(withWebConfig).args).to.deep.equal([
        '--web.config.file',
        '/etc/dis-exporter/web.yml',
        '--check-config',
      ]);
      const plain = podTemplate(rendered['required values only']!).spec!;
      expect(plain.initContainers).to.equal(undefined);
      expect(plain.containers[0]!.args).to.equal(undefined);
      expect(plain.containers[0]!.envFrom).to.equal(undefined);

      expect(templateError({ extraArgs: [1] })).to.include(
        'extraArgs.0: Invalid type. Expected: string, given: integer',
      );
      expect(templateError({ envFrom: [{ configMapRef: {} }] })).to.include('envFrom.0.configMapRef: name is required');
      expect(templateError({ initContainers: [{ name: 'x' }] })).to.include('initContainers.0: image is required');
    });

    it('adds commonLabels to every object and to the pods, never to the selectors, and refuses a label of its own', () => {
      const output = template({ ...ALL_ON, commonLabels: { team: 'data', 'example.com/cost-center': '42' } });
      for (const doc of output.docs) {
        expect(
          (doc.metadata as { labels?: Record<string, string> }).labels,
          `${doc.kind} ${doc.metadata.name}`,
        ).to.include({ team: 'data', 'example.com/cost-center': '42' });
      }
      expect(podTemplate(output).metadata!.labels).to.include({ team: 'data' });
      const selector = { 'app.kubernetes.io/name': 'dis-exporter', 'app.kubernetes.io/instance': RELEASE };
      expect(one(output, StatefulSet).spec!.selector.matchLabels).to.deep.equal(selector);
      expect(one(output, Service, RELEASE).spec!.selector).to.deep.equal(selector);
      expect(one(output, ServiceMonitor).spec.selector.matchLabels).to.deep.equal({
        ...selector,
        'app.kubernetes.io/component': 'metrics',
      });
      expect(templateError({ commonLabels: { 'app.kubernetes.io/name': 'x' } })).to.include(
        'commonLabels.app.kubernetes.io/name: the chart sets this label itself; choose another name',
      );
    });

    it('refuses a resource label that repeats one of its own, and lets it win over commonLabels otherwise', () => {
      // Written after the chart's labels, such a key rendered twice: Kubernetes kept one of them without a word.
      const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
        [{ podLabels: { 'app.kubernetes.io/instance': 'y' } }, 'podLabels.app.kubernetes.io/instance'],
        [{ service: { labels: { 'app.kubernetes.io/component': 'y' } } }, 'service.labels.app.kubernetes.io/component'],
        [
          { serviceMonitor: { enabled: true, labels: { 'helm.sh/chart': 'y' } } },
          'serviceMonitor.labels.helm.sh/chart',
        ],
        [
          { prometheusRule: { enabled: true, labels: { 'app.kubernetes.io/name': 'y' } } },
          'prometheusRule.labels.app.kubernetes.io/name',
        ],
        [
          { alertmanagerConfig: { enabled: true, labels: { 'app.kubernetes.io/managed-by': 'y' } } },
          'alertmanagerConfig.labels.app.kubernetes.io/managed-by',
        ],
        [{ commonLabels: { 'app.kubernetes.io/component': 'y' } }, 'commonLabels.app.kubernetes.io/component'],
      ];
      for (const [values, key] of cases) {
        expect(templateError(values), key).to.include(`${key}: the chart sets this label itself; choose another name`);
      }
      const output = template({
        ...ALL_ON,
        commonLabels: { team: 'common' },
        podLabels: { team: 'pod' },
        service: { labels: { team: 'service' } },
        serviceMonitor: { enabled: true, labels: { team: 'monitor' } },
      });
      expect(podTemplate(output).metadata!.labels).to.include({ team: 'pod' });
      expect(one(output, Service, RELEASE).metadata!.labels).to.include({
        team: 'service',
        'app.kubernetes.io/component': 'metrics',
      });
      expect(one(output, ServiceMonitor).metadata!.labels).to.include({ team: 'monitor' });
      expect(one(output, StatefulSet).metadata!.labels).to.include({ team: 'common' });
      // every key once in the text helm prints, not merely in the parsed objects
      expect(output.text.match(/^ +team: /gm)?.length).to.equal(output.docs.length + 1);
    });

    it('keeps revisionHistoryLimit old revisions of the Deployment or the StatefulSet', () => {
      expect(one(rendered['required values only']!, Deployment).spec!.revisionHistoryLimit).to.equal(10);
      expect(one(rendered['every optional part on']!, StatefulSet).spec!.revisionHistoryLimit).to.equal(10);
      expect(one(template({ revisionHistoryLimit: 2 }), Deployment).spec!.revisionHistoryLimit).to.equal(2);
      expect(one(template({ shards: 2, revisionHistoryLimit: 0 }), StatefulSet).spec!.revisionHistoryLimit).to.equal(0);
      expect(templateError({ revisionHistoryLimit: -1 })).to.include(
        'revisionHistoryLimit: Must be greater than or equal to 0',
      );
    });

    it('puts the ServiceMonitor in serviceMonitor.namespace, scraping the release namespace, with honorLabels and targetLabels', () => {
      const monitor = one(
        template({
          serviceMonitor: { enabled: true, namespace: 'prometheus', honorLabels: true, targetLabels: ['team'] },
          service: { labels: { team: 'data' } },
        }),
        ServiceMonitor,
      );
      expect(monitor.metadata!.namespace).to.equal('prometheus');
      expect(monitor.spec).to.deep.equal({
        jobLabel: 'app.kubernetes.io/name',
        targetLabels: ['team'],
        namespaceSelector: { matchNames: [NAMESPACE] },
        selector: {
          matchLabels: {
            'app.kubernetes.io/name': 'dis-exporter',
            'app.kubernetes.io/instance': RELEASE,
            'app.kubernetes.io/component': 'metrics',
          },
        },
        endpoints: [{ port: 'http', path: '/metrics', honorLabels: true, interval: '60s', scrapeTimeout: '10s' }],
      });
      const defaults = one(template({ serviceMonitor: { enabled: true } }), ServiceMonitor);
      expect(defaults.metadata!.namespace).to.equal(NAMESPACE);
      expect(defaults.spec).to.not.have.property('targetLabels');
      expect(defaults.spec.endpoints![0]).to.not.have.property('honorLabels');
    });

    it('gives job="dis-exporter" (the Service label app.kubernetes.io/name), not the Service name, which DisExporterDown matches', () => {
      const output = template({ fullnameOverride: 'metrics', serviceMonitor: { enabled: true } });
      const monitor = one(output, ServiceMonitor);
      const service = one(output, Service, 'metrics');
      // The operator takes the job from the Service label named by jobLabel.
      const job = service.metadata!.labels![monitor.spec.jobLabel!];
      expect(job).to.equal('dis-exporter');
      const alerts = parse(chartFile('files/alerts.yaml')) as RuleFile;
      const down = alerts.groups.flatMap((g) => g.rules).find((r) => r.alert === 'DisExporterDown')!;
      const selector = /^up\{job=~"(.+)"\} == 0$/.exec(down.expr);
      expect(selector, down.expr).to.not.equal(null);
      expect(new RegExp(`^(?:${selector![1]!})$`).test(job!)).to.equal(true);
      expect(new RegExp(`^(?:${selector![1]!})$`).test('metrics')).to.equal(false);
    });
  });

  describe('required values', () => {
    const NEITHER =
      'the exporter refuses to start without a project id and targets (or config.projects):\n' +
      '- config.dis.projectId is empty: set it to the project of your streams (--set config.dis.projectId=...)\n' +
      `- config.targets is empty: list the dump tasks to poll, e.g. --set-json 'config.targets=[{"stream":"orders","task":"*"}]'`;

    it('fails to render without a project id or without targets, naming what to set', () => {
      const [projectLine, targetsLine] = NEITHER.split('\n').slice(1);
      const header = NEITHER.split('\n')[0]!;
      expect(templateError({}, true)).to.include(
        `Error: execution error at (dis-exporter/templates/configmap.yaml:1:4): ${NEITHER}\n`,
      );
      const noProject = templateError({ config: { targets: REQUIRED_CONFIG.targets } }, true);
      expect(noProject).to.include(`${header}\n${projectLine}\n`).and.not.include('config.targets is empty');
      const noTargets = templateError({ config: { dis: { projectId: PROJECT_ID }, targets: [] } }, true);
      expect(noTargets).to.include(`${header}\n${targetsLine}\n`).and.not.include('config.dis.projectId is empty');
      // helm lint only reports it: a chart with required values still lints with its defaults.
      const lint = helm(['lint', CHART]);
      expect(lint.status).to.equal(0);
    });

    it('takes config.projects instead, which the exporter accepts, and refuses it with a project id or targets', () => {
      const projects = [
        {
          projectId: PROJECT_ID,
          endpoint: 'https://dis.cn-north-4.myhuaweicloud.com',
          region: 'cn-north-4',
          targets: [{ stream: 'orders', task: '*' }],
        },
        {
          projectId: 'fedcba9876543210fedcba9876543210',
          endpoint: 'https://dis.ap-southeast-1.myhuaweicloud.com',
          region: 'ap-southeast-1',
          targets: [{ stream: '*' }],
        },
      ];
      const config = exporterConfig(template({ ...WITH_CREDENTIALS, config: { projects } }, true));
      expect(config.projects).to.deep.equal(projects);
      writeFileSync(join(workDir, 'ak'), 'AK-FROM-FILE\n');
      writeFileSync(join(workDir, 'sk'), 'SK-FROM-FILE\n');
      config.auth = { accessKeyFile: join(workDir, 'ak'), secretKeyFile: join(workDir, 'sk') };
      const file = join(workDir, 'projects-config.yaml');
      writeFileSync(file, stringify(config));
      expect(loadConfig({ file, env: {} }).projects?.map((project) => project.projectId)).to.deep.equal(
        projects.map((project) => project.projectId),
      );
      const both = (single: Values) => templateError({ config: { ...single, projects } }, true);
      const refusal = (keys: string) =>
        `config.projects cannot be used together with ${keys}: list every project under config.projects, or poll ` +
        'one with config.dis.projectId and config.targets';
      expect(both(REQUIRED_CONFIG)).to.include(refusal('config.dis.projectId and config.targets'));
      expect(both({ targets: REQUIRED_CONFIG.targets })).to.include(refusal('config.targets'));
      // DIS_PROJECTS in the environment stands for it too
      const fromEnv = template({ extraEnv: [{ name: 'DIS_PROJECTS', value: JSON.stringify(projects) }] }, true);
      expect(kinds(fromEnv)).to.include('Deployment');
    });

    it('leaves the check to the exporter when the environment or a config file of the user names them', () => {
      const env = (name: string) => ({ name, valueFrom: { configMapKeyRef: { name: 'dis', key: name } } });
      const fromEnv = template(
        { extraEnv: [env('HUAWEICLOUD_SDK_PROJECT_ID'), { name: 'DIS_TARGETS', value: 'orders/*' }] },
        true,
      );
      expect(container(fromEnv).env).to.deep.include({ name: 'DIS_TARGETS', value: 'orders/*' });
      expect(templateError({ extraEnv: [env('HUAWEICLOUD_SDK_PROJECT_ID')] }, true))
        .to.include('config.targets is empty')
        .and.not.include('config.dis.projectId is empty');
      for (const values of [
        { envFrom: [{ configMapRef: { name: 'dis-exporter-env' } }] },
        { extraArgs: ['--config', '/etc/my-config/config.yaml'] },
        { extraArgs: ['--config=/etc/my-config/config.yaml'] },
        { extraEnv: [{ name: 'DIS_EXPORTER_CONFIG', value: '/etc/my-config/config.yaml' }] },
      ]) {
        expect(kinds(template(values, true)), JSON.stringify(values)).to.include('Deployment');
      }
    });
  });

  describe('alert rules (prometheusRule.*)', () => {
    const FILE = () => parse(chartFile('files/alerts.yaml')) as RuleFile;
    const groupsWith = (values: Values) =>
      one(template({ prometheusRule: { enabled: true, ...values } }), PrometheusRule).spec.groups;
    /** files/alerts.yaml with `change` applied to every alert (a copy). */
    const fileWith = (change: (rule: Rule) => Rule) =>
      FILE().groups.map((group) => ({ ...group, rules: group.rules.map((rule) => change({ ...rule })) }));

    it('with no value set, renders exactly the groups of files/alerts.yaml in the release namespace', () => {
      const rule = one(template({ prometheusRule: { enabled: true } }), PrometheusRule);
      expect(rule.spec.groups).to.deep.equal(FILE().groups);
      expect(rule.metadata!.namespace).to.equal(NAMESPACE);
      const elsewhere = one(template({ prometheusRule: { enabled: true, namespace: 'rules' } }), PrometheusRule);
      expect(elsewhere.metadata!.namespace).to.equal('rules');
    });

    it('points every runbook_url at prometheusRule.runbookUrl, keeping the anchor of files/alerts.yaml', () => {
      const expected = fileWith((rule) => ({
        ...rule,
        annotations: {
          ...rule.annotations,
          runbook_url: `https://wiki.example.com/dis/runbook#runbook-${rule.alert!.toLowerCase()}`,
        },
      }));
      expect(groupsWith({ runbookUrl: 'https://wiki.example.com/dis/runbook' })).to.deep.equal(expected);
      expect(groupsWith({ runbookUrl: 'https://wiki.example.com/dis/runbook#' })).to.deep.equal(expected);
      expect(templateError({ prometheusRule: { runbookUrl: 'wiki/runbook' } })).to.include(
        'prometheusRule.runbookUrl: Does not match pattern',
      );
    });

    it('adds additionalRuleLabels to every alert, under the alert’s own labels', () => {
      const extra = { team: 'data', severity: 'page' };
      expect(groupsWith({ additionalRuleLabels: extra })).to.deep.equal(
        fileWith((rule) => ({ ...rule, labels: { team: 'data', severity: rule.labels!.severity! } })),
      );
      expect(templateError({ prometheusRule: { additionalRuleLabels: { 'team-name': 'x' } } })).to.include(
        'prometheusRule.additionalRuleLabels: Property name of "team-name" does not match',
      );
    });

    it('leaves out disabled alerts, and a group they leave empty', () => {
      const file = FILE();
      const exporterAlerts = file.groups
        .find((group) => group.name === 'dis-exporter')!
        .rules.map((rule) => rule.alert!);
      const disabled = {
        ...Object.fromEntries(exporterAlerts.map((alert) => [alert, true])),
        DisDumpTaskNotRunning: true,
      };
      expect(groupsWith({ disabled: { ...disabled, DisDumpRecordsDiscarded: false } })).to.deep.equal(
        file.groups
          .filter((group) => group.name !== 'dis-exporter')
          .map((group) =>
            group.name === 'dis-dump-tasks'
              ? { ...group, rules: group.rules.filter((rule) => rule.alert !== 'DisDumpTaskNotRunning') }
              : group,
          ),
      );
      expect(templateError({ prometheusRule: { disabled: { DisDumpTaskStuck: true } } })).to.include(
        'prometheusRule.disabled: Additional property DisDumpTaskStuck is not allowed',
      );
    });

    it('applies overrides.<Alert>.for and .severity to that alert only', () => {
      const overrides = { DisDumpPartitionLagHigh: { for: '1h', severity: 'info' }, DisExporterDown: { for: '15m' } };
      expect(groupsWith({ overrides })).to.deep.equal(
        fileWith((rule) =>
          rule.alert === 'DisDumpPartitionLagHigh'
            ? { ...rule, for: '1h', labels: { severity: 'info' } }
            : rule.alert === 'DisExporterDown'
              ? { ...rule, for: '15m' }
              : rule,
        ),
      );
      expect(templateError({ prometheusRule: { overrides: { DisExporterDown: { for: '5 minutes' } } } })).to.include(
        "prometheusRule.overrides.DisExporterDown.for: Does not match pattern '^(\\d+(ms|s|m|h|d|w|y))+$'",
      );
      expect(templateError({ prometheusRule: { overrides: { DisExporterDown: { page: true } } } })).to.include(
        'prometheusRule.overrides.DisExporterDown: Additional property page is not allowed',
      );
    });

    it('appends additionalRules in a group of their own, their alerts with additionalRuleLabels too', () => {
      const mine = [
        { record: 'dis:lag_records:sum', expr: 'sum by (stream) (dis_dump_task_partition_lag_records)' },
        {
          alert: 'DisOrdersLagging',
          expr: 'dis:lag_records:sum{stream="orders"} > 1e6',
          for: '10m',
          labels: { severity: 'warning' },
        },
      ];
      expect(groupsWith({ additionalRules: mine })).to.deep.equal([
        ...FILE().groups,
        { name: 'dis-exporter-additional', rules: mine },
      ]);
      const labelled = groupsWith({ additionalRules: mine, additionalRuleLabels: { team: 'data', severity: 'page' } });
      expect(labelled!.at(-1)).to.deep.equal({
        name: 'dis-exporter-additional',
        rules: [mine[0], { ...mine[1], labels: { team: 'data', severity: 'warning' } }],
      });
      expect(templateError({ prometheusRule: { additionalRules: [{ alert: 'X' }] } })).to.include(
        'prometheusRule.additionalRules.0: expr is required',
      );
    });

    it('renders adapted rules that promtool accepts', function () {
      requireTool(this, 'promtool');
      const groups = groupsWith({
        runbookUrl: 'https://wiki.example.com/dis/runbook',
        additionalRuleLabels: { team: 'data' },
        disabled: { DisExporterAbsent: true },
        overrides: { DisDumpTaskNotRunning: { for: '2h', severity: 'warning' } },
        additionalRules: [{ alert: 'DisOrdersLagging', expr: 'sum(dis_dump_task_partition_lag_records) > 1e6' }],
      });
      const file = join(workDir, 'adapted-rules.json');
      writeFileSync(file, JSON.stringify({ groups }));
      const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout).to.include('SUCCESS: 23 rules found');
    });

    it('knows in values.schema.json exactly the alerts of files/alerts.yaml, for disabled and overrides', () => {
      const schema = JSON.parse(chartFile('values.schema.json')) as SchemaNode;
      const rule = schema.properties!['prometheusRule']!.properties!;
      const alerts = FILE().groups.flatMap((group) => group.rules.map((r) => r.alert));
      expect(Object.keys(rule['disabled']!.properties!)).to.deep.equal(alerts);
      expect(Object.keys(rule['overrides']!.properties!)).to.deep.equal(alerts);
    });
  });

  describe('inhibition rules (alertmanagerConfig.*)', () => {
    it('renders the inhibition rules of docs/alerts.md as an AlertmanagerConfig', () => {
      const config = one(rendered['every optional part on']!, AlertmanagerConfig);
      expect(config.metadata!.namespace).to.equal(NAMESPACE);
      expect(config.metadata!.labels).to.include({ alertmanagerConfig: 'main' });
      expect(config.spec).to.deep.equal({ inhibitRules: documentedInhibitRules() });
      expect(documentedInhibitRules()).to.have.lengthOf(5);
      expect(all(rendered['required values only']!, AlertmanagerConfig)).to.deep.equal([]);
      const elsewhere = one(
        template({ alertmanagerConfig: { enabled: true, namespace: 'alerting' } }),
        AlertmanagerConfig,
      );
      expect(elsewhere.metadata!.namespace).to.equal('alerting');
    });
  });

  describe('values', () => {
    it('are checked by values.schema.json: a wrong type or an unknown key fails template and lint', () => {
      const bad = { shards: 'three', bogus: true };
      const errors = [
        'shards: Invalid type. Expected: integer, given: string',
        '(root): Additional property bogus is not allowed',
      ];
      const rendering = templateError(bad);
      const lint = helm(['lint', CHART, '-f', valuesFile(bad)]);
      expect(lint.status).to.not.equal(0);
      for (const error of errors) {
        expect(rendering).to.include(error);
        expect(lint.stdout + lint.stderr).to.include(error);
      }
      expect(templateError({ shards: 0 })).to.include('shards: Must be greater than or equal to 1');
      expect(templateError({ serviceMonitor: { enabled: 'yes' } })).to.include(
        'serviceMonitor.enabled: Invalid type. Expected: boolean, given: string',
      );
      expect(templateError({ image: { tag: 1.2 } })).to.include('image.tag: Invalid type. Expected: string');
      // An unquoted number where the exporter wants a name would reach the config file as a number.
      expect(templateError({ config: { targets: [{ stream: 'orders', task: 2024 }] } })).to.include(
        'config.targets.0.task: Invalid type. Expected: string, given: integer',
      );
    });

    it('are each documented in the chart README, and the schema knows exactly the keys of values.yaml', () => {
      const schema = JSON.parse(chartFile('values.schema.json')) as SchemaNode;
      const values = parse(chartFile('values.yaml')) as Values;
      const readme = chartFile('README.md');
      const paths = documentedPaths(values, schema);
      expect(paths).to.include.members(['shards', 'config', 'existingSecretKeys.accessKey', 'serviceMonitor.interval']);
      for (const path of paths) expect(readme, `README.md row for ${path}`).to.include(`| \`${path}\` |`);
    });
  });
});

type SchemaNode = { properties?: Record<string, SchemaNode>; additionalProperties?: boolean };
type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> } & {
  annotations?: Record<string, string>;
};
type RuleFile = { groups: Array<{ name: string; rules: Rule[] }> };

/** The `inhibit_rules` of docs/alerts.md ("Suggested Alertmanager inhibitions"), as an AlertmanagerConfig writes them. */
function documentedInhibitRules(): unknown[] {
  const markdown = readFileSync(join(ROOT, 'docs', 'alerts.md'), 'utf8');
  const block = /```yaml\n(inhibit_rules:[\s\S]*?)```/.exec(markdown);
  expect(block, 'the inhibit_rules block of docs/alerts.md').to.not.equal(null);
  type Documented = { source_matchers: string[]; target_matchers: string[]; equal?: string[] };
  const rules = (parse(block![1]!) as { inhibit_rules: Documented[] }).inhibit_rules;
  const matcher = (text: string) => {
    const match = /^(\w+)(=~|!~|!=|=)"(.*)"$/.exec(text);
    expect(match, text).to.not.equal(null);
    return { name: match![1], matchType: match![2], value: match![3] };
  };
  return rules.map((rule) => ({
    sourceMatch: rule.source_matchers.map(matcher),
    targetMatch: rule.target_matchers.map(matcher),
    ...(rule.equal === undefined ? {} : { equal: rule.equal }),
  }));
}

/**
 * The value paths a user sets: keys of values.yaml, descending into the mappings the schema lists key by key
 * (additionalProperties: false) and stopping at free-form ones (config, securityContext, resources, ...) and at
 * empty ones (prometheusRule.disabled and .overrides, keyed by alert name). Checks on the way that values.yaml and
 * the schema name the same keys.
 */
function documentedPaths(values: Values, schema: SchemaNode, prefix = ''): string[] {
  const known = Object.keys(schema.properties ?? {}).filter((key) => !(prefix === '' && key === 'global'));
  expect(Object.keys(values).sort(), `keys of ${prefix || 'values.yaml'}`).to.deep.equal(known.sort());
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const node = schema.properties![key]!;
    const strict =
      node.additionalProperties === false && node.properties !== undefined && Object.keys(value as Values).length > 0;
    return strict ? documentedPaths(value as Values, node, path) : [path];
  });
}
