import { register } from 'node:module';

type ConfigModule = typeof import('@kubernetes/client-node/dist/config.js');

/**
 * A module hook (in a data: URL, so it works from dist/ and under tsx alike): client-node's config.js imports
 * its generated API index for two helpers, and that index loads every generated API and model class (~60 MB of
 * RSS and a second of CPU in a process that only needs credentials). It gets the two modules those helpers live
 * in instead; everything else in config.js (exec and auth providers, client certificates, proxies) is untouched.
 */
const HOOK = `export async function resolve(specifier, context, next) {
  if (specifier === './gen/index.js' && context.parentURL && context.parentURL.endsWith('/@kubernetes/client-node/dist/config.js')) {
    const gen = new URL('./gen/', context.parentURL);
    const source = 'export { createConfiguration } from ' + JSON.stringify(new URL('configuration.js', gen).href) + ';\\n' +
      'export { ServerConfiguration } from ' + JSON.stringify(new URL('servers.js', gen).href) + ';\\n';
    return { url: 'data:text/javascript,' + encodeURIComponent(source), shortCircuit: true };
  }
  return next(specifier, context);
}`;

let loaded: Promise<ConfigModule> | undefined;

/** client-node's KubeConfig module (the class that reads kubeconfigs and in-cluster credentials), loaded lean. */
export function kubeConfigModule(): Promise<ConfigModule> {
  if (!loaded) {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
    loaded = import('@kubernetes/client-node/dist/config.js');
  }
  return loaded;
}
