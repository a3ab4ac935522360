import type { Handler } from './handler';
import { httpHandler } from './http-handler';
import { noopHandler } from './noop-handler';
import { simulateHandler } from './simulate-handler';
import { sleepHandler } from './sleep-handler';

/** Every handler type Tock knows. To add one, write a module like noop-handler.ts and list it here. */
export const BUILTIN_HANDLERS: readonly Handler<never>[] = [httpHandler, noopHandler, sleepHandler, simulateHandler] as Handler<never>[];

export class HandlerRegistry {
  private readonly byName = new Map<string, Handler<unknown>>();

  constructor(handlers: readonly Handler<never>[] = BUILTIN_HANDLERS) {
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
