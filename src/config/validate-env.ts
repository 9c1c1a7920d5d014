import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { EnvironmentVariables } from './env.schema.js';

/** Raised when the environment breaks a rule; its message names variables and rules, never values. */
export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid environment configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((error) =>
    Object.values(error.constraints ?? {}).map((rule) =>
      rule.startsWith(error.property) ? rule : `${error.property}: ${rule}`,
    ),
  );
}

/**
 * Validates raw environment variables against {@link EnvironmentVariables}. Empty strings count as unset, so
 * `PORT=` in a .env file falls back to the default instead of becoming 0.
 *
 * @throws InvalidEnvironmentError listing every broken rule.
 */
export function validateEnv(raw: Record<string, unknown>): EnvironmentVariables {
  const present = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(EnvironmentVariables, present);
  // One rule per variable: a missing secret is "must be set", not also "too short" and "too long".
  const errors = validateSync(env, {
    skipMissingProperties: false,
    forbidUnknownValues: true,
    stopAtFirstError: true,
  });
  const problems = describe(errors);
  // One Redis topology at most (ARCHITECTURE.md §10); none means memory only.
  const topologies = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter(
    (name) => env[name] !== undefined,
  );
  if (topologies.length > 1)
    problems.push(`${topologies.join(' and ')} are exclusive: configure one Redis topology`);
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
  return env;
}
