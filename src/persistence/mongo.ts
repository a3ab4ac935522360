import mongoose, { type Connection } from 'mongoose';
import { createModels, type Models } from './models';

export interface Database {
  conn: Connection;
  models: Models;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Connects with short server-selection and socket timeouts so that a MongoDB outage turns into a
 * quick UnavailableError instead of a hanging request.
 */
export async function connectDatabase(url: string, opts: { ensureIndexes?: boolean; socketTimeoutMS?: number } = {}): Promise<Database> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 1500,
    // The API refuses requests while the driver knows the server is gone; notice its return soon.
    heartbeatFrequencyMS: 1000,
    connectTimeoutMS: 1500,
    socketTimeoutMS: opts.socketTimeoutMS ?? 30_000,
    maxPoolSize: 20,
    autoIndex: false,
    autoCreate: false,
    bufferCommands: false,
  });
  await conn.asPromise();
  const models = createModels(conn);
  if (opts.ensureIndexes) {
    for (const model of Object.values(models)) {
      await model.createCollection().catch((err: { codeName?: string }) => {
        if (err.codeName !== 'NamespaceExists') throw err;
      });
      await model.createIndexes();
    }
  }
  return {
    conn,
    models,
    async ping() {
      await conn.db!.admin().command({ ping: 1 });
    },
    async close() {
      await conn.close();
    },
  };
}
