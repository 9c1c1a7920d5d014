import type { Type } from '@nestjs/common';

/** The field names a parameter's DTO declares, or `open` when they cannot be known (no class, or no metadata). */
export type DtoFields = { open: false; names: Set<string> } | { open: true };

interface ClassValidatorStorage {
  getTargetValidationMetadatas(
    target: Type,
    schema: string,
    always: boolean,
    strictGroups: boolean,
  ): { propertyName: string }[];
}

/** class-transformer's private maps, by class then property (read, never written). */
type TransformerMaps = Record<string, Map<Type, Map<string, unknown>> | undefined>;

const TRANSFORMER_MAPS = ['_typeMetadatas', '_exposeMetadatas', '_transformMetadatas', '_excludeMetadatas'];
/** Where @nestjs/swagger records `@ApiProperty()` fields, on the prototype, as `:<name>`. */
const SWAGGER_PROPERTIES = 'swagger/apiModelPropertiesArray';
const NOT_DTO = new Set<unknown>([String, Number, Boolean, Object, Array, Function, Promise, undefined]);

/**
 * Learns which fields a query or params DTO declares from every place Nest's ecosystem records them, so that the
 * cache's key rules never depend on one library: class-validator's decorators (its global storage), class-transformer's
 * (`@Type`, `@Expose`, `@Transform`, `@Exclude`), @nestjs/swagger's `@ApiProperty`, and the properties a new instance
 * defines (initialisers, and every declared field under ES2022 class fields). Libraries that are not installed are
 * simply not consulted.
 */
export class DtoFieldReader {
  private transformer: TransformerMaps | undefined;

  /** Loads class-transformer's storage if the app has it (an optional peer). */
  async load(): Promise<void> {
    const specifier = 'class-transformer/cjs/storage.js';
    try {
      const storage = (await import(specifier)) as { defaultMetadataStorage?: TransformerMaps };
      this.transformer = storage.defaultMetadataStorage;
    } catch {
      this.transformer = undefined;
    }
  }

  fields(metatype: Type | undefined): DtoFields {
    if (NOT_DTO.has(metatype) || typeof metatype !== 'function') return { open: true };
    const names = new Set<string>([
      ...this.validatorFields(metatype),
      ...this.transformerFields(metatype),
      ...this.swaggerFields(metatype),
      ...instanceFields(metatype),
    ]);
    return names.size === 0 ? { open: true } : { open: false, names };
  }

  private validatorFields(metatype: Type): string[] {
    const storage = (globalThis as { classValidatorMetadataStorage?: ClassValidatorStorage })
      .classValidatorMetadataStorage;
    if (!storage) return [];
    return storage.getTargetValidationMetadatas(metatype, '', false, false).map((m) => m.propertyName);
  }

  private transformerFields(metatype: Type): string[] {
    const maps = this.transformer;
    if (!maps) return [];
    const names: string[] = [];
    for (let target: unknown = metatype; typeof target === 'function' && target !== Function.prototype;) {
      for (const name of TRANSFORMER_MAPS) {
        const byProperty = maps[name]?.get(target as Type);
        if (byProperty) names.push(...byProperty.keys());
      }
      target = Object.getPrototypeOf(target);
    }
    return names;
  }

  private swaggerFields(metatype: Type): string[] {
    const declared = Reflect.getMetadata(SWAGGER_PROPERTIES, metatype.prototype) as unknown;
    if (!Array.isArray(declared)) return [];
    return declared
      .filter((name): name is string => typeof name === 'string')
      .map((name) => name.replace(/^:/, ''));
  }
}

/** Own properties of a fresh instance: initialised fields, and all declared ones under ES2022 class fields. */
function instanceFields(metatype: Type): string[] {
  if (metatype.length > 0) return [];
  try {
    return Object.keys(new metatype() as object);
  } catch {
    return [];
  }
}
