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
import { loadConfig } from '../../src/config/load.js';
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
  'default values': {},
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

function helmTemplate(values: Values) {
  return helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, '-f', valuesFile(values)]);
}

/** `helm template` output for these values; throws with helm's error when rendering fails. */
function template(values: Values = {}): Rendered {
  const result = helmTemplate(values);
  if (result.status !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const docs = parseAllDocuments(result.stdout).flatMap((doc) => {
    expect(doc.errors, 'YAML errors in the rendered output').to.deep.equal([]);
    const manifest = doc.toJS() as Manifest | null;
    return manifest === null ? [] : [manifest];
  });
  return { text: result.stdout, docs };
}

/** helm's error output for values the chart must refuse. */
function templateError(values: Values): string {
  const result = helmTemplate(values);
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

  it('renders a Deployment, its Service, ConfigMap and ServiceAccount with the default values', () => {
    expect(kinds(rendered['default values']!)).to.deep.equal(['ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
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
      const deployment = one(rendered['default values']!, Deployment);
      expect(deployment.spec!.replicas).to.equal(1);
      expect(all(rendered['default values']!, StatefulSet)).to.deep.equal([]);
      expect(all(rendered['default values']!, PodDisruptionBudget)).to.deep.equal([]);
      expect(exporterConfig(rendered['default values']!)).to.not.have.property('shard');
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
      for (const output of [rendered['default values']!, rendered['every optional part on']!]) {
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
      const exporter = container(rendered['default values']!);
      expect(exporter.ports).to.deep.equal([{ name: 'http', containerPort: 9873, protocol: 'TCP' }]);
      expect(exporter.livenessProbe!.httpGet).to.deep.equal({ path: '/-/healthy', port: 'http' });
      expect(exporter.readinessProbe!.httpGet).to.deep.equal({ path: '/-/ready', port: 'http' });
      expect(exporter.resources!.requests).to.have.keys('cpu', 'memory');
      expect(exporter.resources!.limits).to.have.keys('memory');
      const service = one(rendered['default values']!, Service);
      expect(service.spec!.ports).to.deep.equal([{ name: 'http', port: 9873, targetPort: 'http', protocol: 'TCP' }]);

      const otherPort = template({ config: { server: { port: 9999 } } });
      expect(container(otherPort).ports![0]!.containerPort).to.equal(9999);
    });

    it('reads its config from the mounted ConfigMap, and rolls the pods when the config changes', () => {
      const exporter = container(rendered['default values']!);
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
      expect(container(rendered['default values']!).image).to.equal(`dis-exporter:${chart.appVersion}`);
      expect(container(rendered['default values']!).imagePullPolicy).to.equal('IfNotPresent');

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
      const output = rendered['default values']!;
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

/**
 * The value paths a user sets: keys of values.yaml, descending into the mappings the schema lists key by key
 * (additionalProperties: false) and stopping at free-form ones (config, securityContext, resources, ...).
 * Checks on the way that values.yaml and the schema name the same keys.
 */
function documentedPaths(values: Values, schema: SchemaNode, prefix = ''): string[] {
  const known = Object.keys(schema.properties ?? {}).filter((key) => !(prefix === '' && key === 'global'));
  expect(Object.keys(values).sort(), `keys of ${prefix || 'values.yaml'}`).to.deep.equal(known.sort());
  return Object.entries(values).flatMap(([key, value]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const node = schema.properties![key]!;
    const strict = node.additionalProperties === false && node.properties !== undefined;
    return strict ? documentedPaths(value as Values, node, path) : [path];
  });
}
