// `expand[]` for every retrieve and list, built once here. Modules register which fields of their
// objects hold ids of other objects and how to load those objects (scoped to the caller).
import { invalidParam } from './errors.js';

export interface Scope {
  merchantId: string;
  livemode: boolean;
}

export type ExpandLoader = (scope: Scope, id: string) => Promise<Record<string, unknown> | null>;

/** objectType -> field -> loader. A field path may be nested ("invoice_settings.default_payment_method"). */
export class ExpandRegistry {
  private readonly fields = new Map<string, Map<string, ExpandLoader>>();

  register(objectType: string, field: string, loader: ExpandLoader): void {
    const forType = this.fields.get(objectType) ?? new Map<string, ExpandLoader>();
    forType.set(field, loader);
    this.fields.set(objectType, forType);
  }

  /** Expands each path in place. Unknown paths are a 400 naming `expand`. */
  async apply(scope: Scope, value: unknown, paths: string[]): Promise<void> {
    for (const path of paths) {
      const segments = path.split('.');
      if (segments.length > 4) {
        throw invalidParam('expand', `You cannot expand more than 4 levels of a property (${path}).`);
      }
      await this.expandPath(scope, value, segments, path);
    }
  }

  private async expandPath(
    scope: Scope,
    value: unknown,
    segments: string[],
    fullPath: string,
  ): Promise<void> {
    if (value === null || typeof value !== 'object') return;
    const object = value as Record<string, unknown>;
    if ((object.object === 'list' || object.object === 'search_result') && segments[0] === 'data') {
      for (const item of object.data as unknown[]) {
        await this.expandPath(scope, item, segments.slice(1), fullPath);
      }
      return;
    }
    const objectType = typeof object.object === 'string' ? object.object : undefined;
    const fields = objectType ? this.fields.get(objectType) : undefined;
    // The longest registered field name matching the start of the path wins (nested field names).
    for (let take = segments.length; take >= 1; take--) {
      const field = segments.slice(0, take).join('.');
      const loader = fields?.get(field);
      if (!loader) continue;
      const holder = resolveHolder(object, segments.slice(0, take));
      if (!holder) return;
      const current = holder.parent[holder.key];
      let expanded: unknown = current;
      if (typeof current === 'string') {
        expanded = await loader(scope, current);
        holder.parent[holder.key] = expanded;
      }
      if (take < segments.length) await this.expandPath(scope, expanded, segments.slice(take), fullPath);
      return;
    }
    throw invalidParam('expand', `This property cannot be expanded (${fullPath}).`);
  }
}

function resolveHolder(object: Record<string, unknown>, segments: string[]) {
  let parent: Record<string, unknown> = object;
  for (const segment of segments.slice(0, -1)) {
    const next = parent[segment];
    if (next === null || typeof next !== 'object') return undefined;
    parent = next as Record<string, unknown>;
  }
  return { parent, key: segments[segments.length - 1] as string };
}
