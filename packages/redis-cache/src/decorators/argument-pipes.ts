import type { PipeTransform, Type } from '@nestjs/common';
import { PIPES_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import type { ApplicationConfig } from '@nestjs/core';
import type { CacheRequest } from '../redis-cache.types.js';

/** Nest's RouteParamtypes for the arguments the cache reads (stable values of @nestjs/common's enum). */
const SLOT_TYPES: Record<number, ArgumentSlot['type'] | undefined> = { 3: 'body', 4: 'query', 5: 'param' };

/** An argument of a handler that the cache validates before it looks anything up. */
export interface ArgumentSlot {
  type: 'param' | 'query' | 'body';
  /** The name given to the decorator (`@Query('page')`), if any. */
  data: string | undefined;
  metatype: Type | undefined;
  /** Controller, method and parameter pipes, in Nest's order; app-global pipes run before them. */
  pipes: PipeTransform[];
}

export interface ValidatedArguments {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body: Record<string, unknown>;
}

/** A handler as the registry finds it: its class, the method, and how to resolve the pipe classes it names. */
export interface HandlerRef {
  controller: Type;
  /** The method, typed as Reflector and Reflect metadata look-ups accept it. */
  handler: Type;
  name: string;
  /** The instance Nest created for a pipe class in the controller's module (or a new one). */
  resolvePipe(pipe: Type<PipeTransform>): PipeTransform;
}

/** The handler's params, query and body arguments, each with the pipes Nest will run on it. */
export function argumentSlots(entry: HandlerRef): ArgumentSlot[] {
  const metadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, entry.controller, entry.name) ?? {}) as Record<
    string,
    { index: number; data?: unknown; pipes?: unknown[] }
  >;
  const paramTypes = (Reflect.getMetadata('design:paramtypes', entry.controller.prototype, entry.name) ??
    []) as Type[];
  const contextPipes = [
    ...((Reflect.getMetadata(PIPES_METADATA, entry.controller) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(PIPES_METADATA, entry.handler) as unknown[] | undefined) ?? []),
  ];
  return Object.entries(metadata).flatMap(([key, { index, data, pipes }]) => {
    const type = SLOT_TYPES[Number(key.split(':')[0])];
    // Custom parameter decorators use keys of their own (`<id>__customRouteArgs__:<index>`): never these types.
    if (!type || key.includes('__customRouteArgs__')) return [];
    return [
      {
        type,
        data: typeof data === 'string' ? data : undefined,
        metatype: paramTypes[index],
        pipes: [...contextPipes, ...(pipes ?? [])].flatMap((pipe) => toPipe(pipe, entry)),
      },
    ];
  });
}

function toPipe(pipe: unknown, entry: HandlerRef): PipeTransform[] {
  if (typeof pipe === 'function') return [entry.resolvePipe(pipe as Type<PipeTransform>)];
  const candidate = pipe as Partial<PipeTransform> | undefined;
  return typeof candidate?.transform === 'function' ? [candidate as PipeTransform] : [];
}

/**
 * Runs, for each slot, the pipes the handler's own arguments will go through (app-global first, then controller,
 * method and parameter pipes), or only `override` when the module was given an `argumentPipe`. The key is then
 * built from exactly what the handler receives, and an invalid request fails here with the status it would get
 * from the handler: adding @Cached changes no status code.
 */
export async function validateArguments(
  slots: readonly ArgumentSlot[],
  request: CacheRequest & { body?: unknown },
  config: ApplicationConfig | undefined,
  override: PipeTransform | undefined,
): Promise<ValidatedArguments> {
  const result: ValidatedArguments = { params: {}, query: {}, body: {} };
  const globalPipes = override ? [] : (config?.getGlobalPipes() ?? []);
  for (const slot of slots) {
    const source = (
      slot.type === 'param' ? request.params : slot.type === 'query' ? request.query : request.body
    ) as Record<string, unknown> | undefined;
    let value: unknown = slot.data === undefined ? source : source?.[slot.data];
    const metadata = { type: slot.type, metatype: slot.metatype, data: slot.data };
    for (const pipe of override ? [override] : [...globalPipes, ...slot.pipes])
      value = await pipe.transform(value, metadata);
    const target = result[slot.type === 'param' ? 'params' : slot.type];
    if (slot.data !== undefined) target[slot.data] = value;
    else if (value !== null && typeof value === 'object') Object.assign(target, value);
  }
  return result;
}
