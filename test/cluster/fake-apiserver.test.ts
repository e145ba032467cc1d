import t from 'tap';
import { CoreV1Api, KubeConfig, makeInformer, type V1Node } from '@kubernetes/client-node';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';

// The test server must speak the protocol @kubernetes/client-node's informer expects, or every cluster test lies.
t.test(
  'client-node informer lists, watches, resumes after a watch ends, re-lists after 410 Gone, surfaces a cut connection',
  async (t) => {
    const api = new FakeApiServer();
    await api.start();
    t.teardown(() => api.stop());
    api.upsert(CORE_TYPES.nodes, { metadata: { name: 'n1' } });
    const kc = new KubeConfig();
    kc.loadFromFile(api.writeKubeconfig());
    const core = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Node>(kc, '/api/v1/nodes', () => core.listNode());
    const seen: string[] = [];
    informer.on('add', (n) => seen.push(`add ${n.metadata?.name}`));
    informer.on('update', (n) => seen.push(`update ${n.metadata?.name}`));
    informer.on('delete', (n) => seen.push(`delete ${n.metadata?.name}`));
    await informer.start();
    t.teardown(() => informer.stop());
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
      return cond();
    };
    t.ok(await until(() => api.watcherCount(CORE_TYPES.nodes) === 1), 'watch open');
    api.upsert(CORE_TYPES.nodes, { metadata: { name: 'n2' } });
    t.ok(await until(() => seen.includes('add n2')), 'watch event delivered');
    api.endWatches();
    t.ok(await until(() => api.watcherCount(CORE_TYPES.nodes) === 1), 'informer re-watches after the watch ends');
    api.upsert(CORE_TYPES.nodes, { metadata: { name: 'n3' } });
    t.ok(await until(() => seen.includes('add n3')));
    api.expireWatches();
    api.remove(CORE_TYPES.nodes, 'n1');
    t.ok(await until(() => informer.list().length === 2), 're-listed after 410');
    t.same(
      informer
        .list()
        .map((n) => n.metadata?.name)
        .sort(),
      ['n2', 'n3'],
    );
    // client-node reports a cut stream either as an error (the informer stops: the caller restarts it) or as a
    // clean end (it re-watches): the cluster code handles both, and the fake must produce one of them.
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    const watchesBefore = api.countRequests((r) => r.watch);
    api.dropWatches();
    t.ok(
      await until(() => errors.length > 0 || api.countRequests((r) => r.watch) > watchesBefore),
      'a cut connection surfaces as an error event or a re-watch',
    );
  },
);
