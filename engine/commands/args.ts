// Shared parsing of command-line values: every bad value becomes a UsageError with one clear line.
import { BACKEND_CHOICES, type BackendChoice } from '../backend';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function backendOption(value: string | undefined): BackendChoice {
  const choice = (value ?? 'auto') as BackendChoice;
  if (!BACKEND_CHOICES.includes(choice)) throw new UsageError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}, not '${value}'`);
  return choice;
}

export function positiveIntOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive whole number, not '${value}'`);
  return n;
}

export function requiredOption(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}
