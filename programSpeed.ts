/**
 * Two costs of the Pulumi Node.js SDK that this stack program switches off before anything registers
 * (measured in issue 17, a 7-member preview at a load of 5-6: each about a second):
 *  - The SDK sends three debug log messages to the engine for every resource it registers, one RPC at a
 *    time (its log queue is serial) and keeps the program alive until the last one is through: hundreds of
 *    round trips for a cluster. The engine shows them only with `pulumi -v=N --logtostderr`; set
 *    ETCD_PULUMI_SDK_DEBUG_LOGS=1 to keep them.
 *  - The SDK captures `new Error().stack` for every promise it tracks, and the source-map-support it
 *    installs maps each frame through the SDK's own source maps. V8's own stack formatting is used
 *    instead: a stack trace then names the compiled .js files (this program runs compiled anyway).
 * Components and stacks that import EtcdCluster are not affected: this is the repository's stack program.
 */
import * as log from "@pulumi/pulumi/log";

if (!process.env.ETCD_PULUMI_SDK_DEBUG_LOGS) {
    (log as { debug: (...args: unknown[]) => Promise<void> }).debug = () => Promise.resolve();
}
// Removing source-map-support's hook restores V8's own formatting.
delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
