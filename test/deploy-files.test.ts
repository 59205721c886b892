// deploy/: the Compose file and the Kubernetes manifests, parsed (no Docker engine runs here): every part of the topology is there, every variable they set is one canon reads, and each service's environment is a configuration canon accepts.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../gateway/config.js';
import { SYSTEMS } from '../schema/model.js';

const DEPLOY = join(import.meta.dirname, '..', 'deploy');

/** Every variable canon reads: the names loadConfig asks its environment for, with nothing set and with JWTs on. */
function namesCanonReads(): Set<string> {
  const seen = new Set<string>();
  const recording = (base: Record<string, string>) =>
    new Proxy(base, {
      get(target, key) {
        if (typeof key === 'string') seen.add(key);
        return target[key as string];
      },
    });
  loadConfig(recording({}));
  loadConfig(recording({ AUTH_JWKS_URL: 'https://idp.example/jwks', AUTH_ISSUER: 'https://idp.example', AUTH_AUDIENCE: 'canon' }));
  return seen;
}
const CANON_READS = namesCanonReads();

const SUBGRAPHS = ['identity', ...SYSTEMS, 'control'];
const SUBGRAPH_SORTED = [...SUBGRAPHS].sort();
/** The `canon` arguments each part of the topology runs with, by its name in the deployment files. */
const TOPOLOGY: Record<string, string[]> = {
  ...Object.fromEntries(SYSTEMS.map((s) => [`${s}-sandbox`, ['sandbox', s]])),
  ...Object.fromEntries(SUBGRAPHS.map((n) => [`${n}-subgraph`, ['subgraph', n]])),
};

/** Compose's `${NAME:-default}` as Compose resolves it with nothing set, and a required `${NAME:?why}` as set to a test value. */
const composeDefault = (v: string) => v.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1').replace(/\$\{([A-Z_]+):\?[^}]*\}/g, 'test-$1');

/** The host and port of each URL a part is told its peers are at. */
function peerAddresses(env: Record<string, string>): { name: string; host: string; port: string }[] {
  return Object.entries(env)
    .filter(([k]) => k.endsWith('_URL') && !['DATABASE_URL', 'REDIS_URL'].includes(k))
    .map(([name, v]) => {
      const u = new URL(v);
      return { name, host: u.hostname, port: u.port };
    });
}

describe('deploy/docker-compose.yml', () => {
  const compose = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, any> };
  const canonServices = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('canon:'));
  const envOf = (s: any): Record<string, string> => Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, composeDefault(String(v))]));

  it('runs every part of the topology with its canon command: 4 sandboxes, 6 subgraphs, 2 gateways, PostgreSQL and Redis', () => {
    const commands = Object.fromEntries(canonServices.map(([name, s]) => [name, s.command]));
    expect(commands).toEqual({ ...TOPOLOGY, 'gateway-a': ['gateway'], 'gateway-b': ['gateway'] });
    expect(Object.keys(compose.services).filter((n) => !n.endsWith('-sandbox') && !n.endsWith('-subgraph') && !n.startsWith('gateway')).sort()).toEqual(['postgres', 'redis']);
  });

  it('sets only variables canon reads, and each service\'s environment is a configuration canon accepts', () => {
    for (const [name, s] of canonServices) {
      const env = envOf(s);
      expect([name, Object.keys(env).filter((k) => !CANON_READS.has(k))]).toEqual([name, []]);
      expect(() => loadConfig(env), name).not.toThrow();
    }
  });

  it('points every peer URL at a service of the file, on the port canon listens on there, and gives every canon service one service token', () => {
    for (const [name, s] of canonServices) {
      for (const peer of peerAddresses(envOf(s))) expect([name, peer.name, peer.host in compose.services, peer.port]).toEqual([name, peer.name, true, envOf(compose.services[peer.host]).PORT]);
    }
    expect(new Set(canonServices.map(([, s]) => envOf(s).CANON_SERVICE_TOKEN)).size).toBe(1);
    const control = loadConfig(envOf(compose.services['control-subgraph']));
    expect([Object.keys(control.subgraphUrls).sort(), Object.keys(control.systemUrls).sort()]).toEqual([['crm', 'erp', 'identity', 'marketing', 'support'], [...SYSTEMS].sort()]);
    for (const g of ['gateway-a', 'gateway-b']) expect(loadConfig(envOf(compose.services[g])).subgraphUrls.control).toBe('http://control-subgraph:4000/graphql');
    expect(new Set(['control-subgraph', 'gateway-a', 'gateway-b'].map((n) => envOf(compose.services[n]).CANON_EXECUTOR_ID)).size).toBe(3);
  });

  it('checks the health of every canon service, gateways ready only once /health is not `starting`', () => {
    expect(canonServices.filter(([, s]) => !s.healthcheck?.test).map(([n]) => n)).toEqual([]);
    for (const g of ['gateway-a', 'gateway-b']) expect(compose.services[g].healthcheck.test.join(' ')).toContain("h.status === 'starting'");
  });
});

describe('deploy/k8s', () => {
  const docs = readdirSync(join(DEPLOY, 'k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(DEPLOY, 'k8s', f), 'utf8')).map((d) => {
      expect(d.errors, f).toEqual([]);
      return d.toJS() as any;
    }));
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const workloads = [...byKind('Deployment'), ...byKind('StatefulSet')];
  const canonWorkloads = workloads.filter((w) => w.spec.template.spec.containers[0].image.startsWith('canon:'));
  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data as Record<string, string>]));
  const secrets = new Map(byKind('Secret').map((s) => [s.metadata.name, s.stringData as Record<string, string>]));
  const services = new Map(byKind('Service').map((s) => [s.metadata.name, s]));

  /** A container's environment as Kubernetes gives it: envFrom's ConfigMaps and Secrets, then env (a fieldRef as the pod's name). */
  function envOf(container: any, podName: string): Record<string, string> {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const data = from.configMapRef ? configMaps.get(from.configMapRef.name) : secrets.get(from.secretRef.name);
      expect(data, JSON.stringify(from)).toBeDefined();
      Object.assign(env, data);
    }
    for (const e of container.env ?? []) env[e.name] = e.value ?? (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name' ? podName : String(e.valueFrom?.secretKeyRef ? secrets.get(e.valueFrom.secretKeyRef.name)?.[e.valueFrom.secretKeyRef.key] : ''));
    return env;
  }

  it('runs every part of the topology with its canon command, two gateway replicas, one identity replica, and PostgreSQL and Redis', () => {
    const commands = Object.fromEntries(canonWorkloads.map((w) => [w.metadata.name, w.spec.template.spec.containers[0].args]));
    expect(commands).toEqual({ ...TOPOLOGY, gateway: ['gateway'] });
    const replicas = Object.fromEntries(workloads.map((w) => [w.metadata.name, w.spec.replicas]));
    expect([replicas.gateway, replicas['identity-subgraph'], replicas.postgres, replicas.redis]).toEqual([2, 1, 1, 1]);
  });

  it('gives every workload a Service selecting it, and every canon container probes, resources and its config from the ConfigMap and Secret', () => {
    for (const w of workloads) {
      const svc = services.get(w.metadata.name);
      expect([w.metadata.name, svc?.spec.selector]).toEqual([w.metadata.name, w.spec.selector.matchLabels]);
    }
    for (const w of canonWorkloads) {
      const c = w.spec.template.spec.containers[0];
      const has = { readiness: !!c.readinessProbe, liveness: !!c.livenessProbe, requests: !!c.resources?.requests?.memory, limits: !!c.resources?.limits?.memory, config: c.envFrom.map((f: any) => f.configMapRef?.name ?? f.secretRef?.name) };
      expect([w.metadata.name, has]).toEqual([w.metadata.name, { readiness: true, liveness: true, requests: true, limits: true, config: ['canon-config', 'canon-secrets'] }]);
    }
    const gateway = workloads.find((w) => w.metadata.name === 'gateway').spec.template.spec.containers[0];
    expect(gateway.readinessProbe.exec.command.join(' ')).toContain("h.status === 'starting'");
    const control = workloads.find((w) => w.metadata.name === 'control-subgraph').spec.template.spec.containers[0];
    expect(control.readinessProbe.httpGet.path).toBe('/health');
  });

  it('sets only variables canon reads, each container\'s environment is a configuration canon accepts, and its peers are Services of the manifests', () => {
    for (const w of canonWorkloads) {
      const env = envOf(w.spec.template.spec.containers[0], `${w.metadata.name}-0`);
      expect([w.metadata.name, Object.keys(env).filter((k) => !CANON_READS.has(k))]).toEqual([w.metadata.name, []]);
      expect(() => loadConfig(env), w.metadata.name).not.toThrow();
      for (const peer of peerAddresses(env)) {
        const svc = services.get(peer.host);
        expect([w.metadata.name, peer.name, svc?.spec.ports.map((p: any) => String(p.port))]).toEqual([w.metadata.name, peer.name, [peer.port]]);
      }
    }
    const gatewayEnv = envOf(workloads.find((w) => w.metadata.name === 'gateway').spec.template.spec.containers[0], 'gateway-x');
    expect(Object.keys(loadConfig(gatewayEnv).subgraphUrls).sort()).toEqual([...SUBGRAPH_SORTED]);
    const controlEnv = envOf(workloads.find((w) => w.metadata.name === 'control-subgraph').spec.template.spec.containers[0], 'control-subgraph-0');
    expect([loadConfig(controlEnv).subgraphUrls.control, loadConfig(controlEnv).workflows.executorId]).toEqual([undefined, 'control-subgraph-0']);
  });
});
