import { applyDecorators } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse } from '@nestjs/swagger';
import { HealthCheck } from '@nestjs/terminus';

const NO_STORE = 'no-cache, no-store, must-revalidate';

/** One indicator's result, keyed by its name: `status` plus what the indicator adds (driver, latency, circuit). */
const INDICATORS = {
  type: 'object',
  additionalProperties: {
    type: 'object',
    required: ['status'],
    properties: { status: { type: 'string', enum: ['up', 'degraded', 'down'] } },
    additionalProperties: true,
  },
};

const healthBody = (statuses: string[]) => ({
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: statuses },
    info: { ...INDICATORS, nullable: true },
    error: { ...INDICATORS, nullable: true },
    details: INDICATORS,
  },
});

/**
 * A Terminus health check documented by us: Terminus documents itself only when it can `require` @nestjs/swagger,
 * which ESM test runners cannot, so the served document would depend on how the app was started. Same bodies and
 * the same `Cache-Control` Terminus sends.
 */
export const HealthEndpoint = () =>
  applyDecorators(
    HealthCheck({ noCache: true, swaggerDocumentation: false }),
    ApiOkResponse({
      description: 'Every indicator is up',
      headers: { 'Cache-Control': { schema: { type: 'string', enum: [NO_STORE] } } },
      schema: healthBody(['ok', 'degraded']),
    }),
    ApiServiceUnavailableResponse({
      description: 'An indicator is down, or the instance is draining for shutdown',
      headers: { 'Cache-Control': { schema: { type: 'string', enum: [NO_STORE] } } },
      schema: healthBody(['error', 'shutting_down']),
    }),
  );
