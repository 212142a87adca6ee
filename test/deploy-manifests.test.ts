// deploy/k8s and deploy/Dockerfile, read as files: every manifest parses (YAML 1.1, as kubectl reads
// it), the objects the runbooks name exist and refer to each other consistently (selectors, secrets,
// the config map, HPA and PDB targets), the config map is configuration src/config.ts accepts, the
// secrets hold placeholders only, and the Dockerfile builds the image the deployments run. No cluster
// and no Docker daemon are involved: `kubectl apply` and `docker build` are not run here. Files only,
// so checked once, in the PGlite project.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../src/config.js';
import { testDatabaseKind } from './support/service.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const K8S = path.join(ROOT, 'deploy/k8s');

type Labels = Record<string, string>;
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  envFrom?: { configMapRef?: { name: string } }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  startupProbe?: { httpGet?: { path: string; port: string | number } };
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; defaultMode?: number } }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  spec?: Record<string, unknown> & {
    selector?: { matchLabels?: Labels } | Labels;
    template?: { metadata: { labels: Labels }; spec: PodSpec };
    podSelector?: { matchLabels?: Labels };
    scaleTargetRef?: { kind: string; name: string };
    policyTypes?: string[];
    ports?: { port: number; targetPort: string | number }[];
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

const files = () => readdirSync(K8S).filter((f) => f.endsWith('.yaml'));
let parsed: K8sObject[] | undefined;
const objects = (): K8sObject[] => {
  parsed ??= files()
    .filter((f) => f !== 'kustomization.yaml')
    .flatMap((f) =>
      parseAllDocuments(readFileSync(path.join(K8S, f), 'utf8'), { version: '1.1' }).map((doc) => {
        if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors.map((e) => e.message).join('; ')}`);
        return doc.toJS() as K8sObject;
      }),
    );
  return parsed;
};
const find = (kind: string, name: string): K8sObject => {
  const found = objects().find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/k8s`);
  return found;
};
const matches = (selector: Labels, labels: Labels) =>
  Object.entries(selector).every(([key, value]) => labels[key] === value);
const deployments = () => objects().filter((o) => o.kind === 'Deployment');
const podLabels = () => deployments().map((d) => d.spec!.template!.metadata.labels);
const container = (d: K8sObject) => d.spec!.template!.spec.containers[0]!;

/** The roles `payctl start --role` accepts, read from the CLI's definition. */
const payctlRoles = () => {
  const source = readFileSync(path.join(ROOT, 'src/cli/payctl.ts'), 'utf8');
  const choices = /'--role <role>'[^)]*\)\.choices\(\[([^\]]+)\]\)/.exec(source)?.[1] ?? '';
  return [...choices.matchAll(/'(\w+)'/g)].map((m) => m[1]);
};

describe.runIf(testDatabaseKind() === 'pglite')(
  'deploy/k8s (files only, checked once in the PGlite project)',
  () => {
    it('lists every manifest in kustomization.yaml, in the production namespace', () => {
      const [doc] = parseAllDocuments(readFileSync(path.join(K8S, 'kustomization.yaml'), 'utf8'));
      const kustomization = doc!.toJS() as { namespace: string; resources: string[] };
      expect(kustomization.namespace).toBe('production');
      expect([...kustomization.resources].sort()).toEqual(
        files()
          .filter((f) => f !== 'kustomization.yaml')
          .sort(),
      );
    });

    it('has the objects the runbooks name', () => {
      for (const [kind, name] of [
        ['Deployment', 'payment-service'],
        ['Deployment', 'payment-worker'],
        ['Deployment', 'webhook-processor'],
        ['Service', 'payment-service'],
        ['Service', 'payment-service-metrics'],
        ['ConfigMap', 'payment-service-config'],
        ['Secret', 'payment-provider-keys'],
        ['HorizontalPodAutoscaler', 'payment-service'],
        ['PodDisruptionBudget', 'payment-service'],
      ] as const) {
        expect(() => find(kind, name)).not.toThrow();
      }
      const policies = objects().filter((o) => o.kind === 'NetworkPolicy');
      expect(policies.length).toBeGreaterThan(0);
      const deny = policies.find((p) => !p.spec!.ingress && !p.spec!.egress);
      expect(deny?.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
    });

    it('runs payctl start with a role it accepts, under the runbooks’ names and labels', () => {
      expect(payctlRoles()).toEqual(['api', 'worker', 'all']);
      for (const [name, app, role] of [
        ['payment-service', 'payment-service', 'api'],
        ['payment-worker', 'payment-worker', 'worker'],
        // No webhook-only role exists: the webhook processor is a worker (see its manifest).
        ['webhook-processor', 'payment-webhook-processor', 'worker'],
      ] as const) {
        const deployment = find('Deployment', name);
        const spec = deployment.spec!;
        expect(spec.selector).toEqual({ matchLabels: { app } });
        expect(spec.template!.metadata.labels).toMatchObject({
          app,
          'app.kubernetes.io/part-of': 'payment-service',
        });
        const c = container(deployment);
        // runbook 000: kubectl set image deployment/payment-service payment-service=payment-service:<tag>
        expect(c.name).toBe(name);
        expect(c.image).toMatch(/^payment-service:/);
        expect(c.args).toEqual(['start', '--role', role]);
        expect(c.ports).toContainEqual({ name: 'http', containerPort: 8080 });
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/health/ready', port: 'http' });
        expect(c.envFrom).toContainEqual({ configMapRef: { name: 'payment-service-config' } });
        expect(spec.template!.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001 });
        const keys = spec.template!.spec.volumes?.find((v) => v.secret)?.secret;
        expect(keys).toEqual({ secretName: 'payment-vault-keys', defaultMode: 0o440 });
      }
    });

    it('refers only to secrets and keys that exist', () => {
      for (const deployment of deployments()) {
        for (const variable of container(deployment).env ?? []) {
          const ref = variable.valueFrom?.secretKeyRef;
          if (!ref) continue;
          const secret = find('Secret', ref.name);
          expect(
            Object.keys(secret.stringData ?? {}),
            `${variable.name} -> ${ref.name}/${ref.key}`,
          ).toContain(ref.key);
        }
        for (const volume of deployment.spec!.template!.spec.volumes ?? []) {
          if (volume.secret) expect(() => find('Secret', volume.secret!.secretName)).not.toThrow();
        }
      }
    });

    it('selects existing pods from its Services, PDBs, NetworkPolicies and HPAs', () => {
      const api = find('Service', 'payment-service').spec!.selector as Labels;
      expect(podLabels().filter((labels) => matches(api, labels))).toHaveLength(1);
      const metrics = find('Service', 'payment-service-metrics').spec!;
      expect(podLabels().filter((labels) => matches(metrics.selector as Labels, labels))).toHaveLength(3);
      expect(metrics.ports).toContainEqual(expect.objectContaining({ port: 8080, targetPort: 'http' }));
      for (const pdb of objects().filter((o) => o.kind === 'PodDisruptionBudget')) {
        const selector = (pdb.spec!.selector as { matchLabels: Labels }).matchLabels;
        expect(
          podLabels().some((labels) => matches(selector, labels)),
          pdb.metadata.name,
        ).toBe(true);
      }
      for (const policy of objects().filter((o) => o.kind === 'NetworkPolicy')) {
        const selector = policy.spec!.podSelector!.matchLabels ?? {};
        expect(
          podLabels().some((labels) => matches(selector, labels)),
          policy.metadata.name,
        ).toBe(true);
      }
      for (const hpa of objects().filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
        const target = hpa.spec!.scaleTargetRef!;
        expect(target.kind).toBe('Deployment');
        expect(() => find('Deployment', target.name)).not.toThrow();
      }
    });

    it('configures with the runbooks’ variables, all of which src/config.ts parses', () => {
      const data = find('ConfigMap', 'payment-service-config').data!;
      for (const name of [
        'CIRCUIT_BREAKER_ENABLED',
        'FALLBACK_PROVIDER_ENABLED',
        'READ_REPLICA_ENABLED',
        'DB_POOL_SIZE',
        'DB_POOL_TIMEOUT',
        'ENHANCED_MONITORING',
        'APP_ENV',
      ]) {
        expect(Object.keys(data)).toContain(name);
      }
      // The environment a pod gets: the config map, then the container's variables from the secrets.
      const secretValue = (name: string, key: string) => find('Secret', name).stringData![key]!;
      const env: Record<string, string> = { ...data };
      for (const variable of container(find('Deployment', 'payment-service')).env ?? []) {
        const ref = variable.valueFrom?.secretKeyRef;
        env[variable.name] = ref ? secretValue(ref.name, ref.key) : (variable.value ?? '');
      }
      const config = loadConfig(env as NodeJS.ProcessEnv);
      // zod drops keys it does not know: a misspelt variable would be silently ignored by the service.
      for (const name of Object.keys(env)) expect(Object.keys(config), name).toContain(name);
      expect(config).toMatchObject({ APP_ENV: 'production', databaseKind: 'postgres', emulators: 'off' });
      // Runbook 000 turns the read replica on with `kubectl set env`: the URL is already there.
      expect(() => loadConfig({ ...env, READ_REPLICA_ENABLED: 'true' } as NodeJS.ProcessEnv)).not.toThrow();
    });

    it('keeps placeholders only in its secrets', () => {
      const secrets = objects().filter((o) => o.kind === 'Secret');
      expect(secrets.length).toBeGreaterThan(0);
      for (const secret of secrets) {
        expect(secret.data, `${secret.metadata.name}: stringData only`).toBeUndefined();
        for (const [key, value] of Object.entries(secret.stringData ?? {})) {
          expect(value, `${secret.metadata.name}/${key}`).toContain('REPLACE_ME');
          expect(value).not.toMatch(/(sk|rk|pk)_(live|test)_\w{8,}|whsec_\w{8,}/);
        }
      }
    });
  },
);

describe.runIf(testDatabaseKind() === 'pglite')(
  'deploy/Dockerfile (file only, checked once in the PGlite project)',
  () => {
    const dockerfile = readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
    const instructions = dockerfile
      .replace(/\\\n/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));

    it('builds on node:20-slim with npm install and the build, and copies what exists', () => {
      const froms = instructions.filter((line) => line.startsWith('FROM '));
      expect(froms.length).toBeGreaterThan(0);
      for (const from of froms) expect(from).toMatch(/^FROM node:20-slim\b/);
      expect(dockerfile).toMatch(/npm install\b/);
      // The build is the prepare script that npm install runs; the image checks the CLI came out of it.
      const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      };
      expect(pkg.scripts.prepare).toMatch(/npm run build/);
      expect(dockerfile).toContain('test -f dist/src/cli/payctl.js');
      for (const line of instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from'))) {
        for (const source of line.split(/\s+/).slice(1, -1)) {
          expect(existsSync(path.join(ROOT, source)), source).toBe(true);
        }
      }
    });

    it('runs payctl start as a non-root user with a HEALTHCHECK on /health', () => {
      const user = instructions.filter((line) => line.startsWith('USER ')).at(-1);
      expect(user).toBeDefined();
      expect(user).not.toMatch(/^USER (root|0)(:|$)/);
      expect(instructions.find((line) => line.startsWith('HEALTHCHECK '))).toMatch(/\/health\b/);
      expect(instructions).toContain('ENTRYPOINT ["node", "bin/payctl.js"]');
      expect(instructions.find((line) => line.startsWith('CMD '))).toMatch(/^CMD \["start"/);
    });
  },
);
