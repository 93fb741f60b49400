/** The deployer's view of the backup store (storeRestore.ts): keys relative to the prefix, over the S3 client in s3/. */
import { S3Client } from "./s3/client";
import { S3Error } from "./s3/s3Error";
import { BackupSettings } from "./settings";
import { StoreReader } from "./storeRestore";

export function storeReaderFor(b: BackupSettings, secretAccessKey: string): StoreReader {
    const client = new S3Client({
        endpoint: b.endpoint,
        region: b.region,
        bucket: b.store.bucket,
        pathStyle: b.pathStyle,
        accessKeyId: b.accessKeyId,
        secretAccessKey,
        caBundlePem: b.caBundle,
    });
    const full = (rel: string) => (b.store.prefix ? `${b.store.prefix}/${rel}` : rel);
    const strip = b.store.prefix ? b.store.prefix.length + 1 : 0;
    return {
        async list(prefix) {
            return (await client.listObjectsV2(full(prefix))).map((o) => ({ key: o.key.slice(strip), size: o.size }));
        },
        async get(key) {
            try {
                return await client.getObject(full(key));
            } catch (e) {
                if (e instanceof S3Error && (e.status === 404 || e.code === "NoSuchKey")) return undefined;
                throw e;
            }
        },
    };
}
