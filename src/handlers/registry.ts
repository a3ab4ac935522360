import type { HandlerCatalog } from '../domain/job-definition';
import type { Handler } from './handler';
import { createHttpHandler, type HttpHandlerOptions } from './http-handler';
import { noopHandler } from './noop-handler';
import { simulateHandler } from './simulate-handler';
import { sleepHandler } from './sleep-handler';

/** What the built-in handlers are configured with (from the environment, by the composition root). */
export type HandlerOptions = HttpHandlerOptions;

/** Every handler type Tock ships. To add one, write a module like noop-handler.ts and list it here. */
export function builtinHandlers(opts: HandlerOptions): readonly Handler<never>[] {
  return [createHttpHandler(opts), noopHandler, sleepHandler, simulateHandler] as Handler<never>[];
}

export class HandlerRegistry implements HandlerCatalog {
  private readonly byName = new Map<string, Handler<unknown>>();

  constructor(handlers: readonly Handler<never>[]) {
    for (const h of handlers) {
      if (this.byName.has(h.name)) throw new Error(`handler ${h.name} is registered twice`);
      this.byName.set(h.name, h as unknown as Handler<unknown>);
    }
  }

  get(name: string): Handler<unknown> | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
