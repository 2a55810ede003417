import { CliError } from './cli-error.js';

/** A numeric flag value from `min` to `max` (an integer if asked); undefined when the flag is not given. */
export function numberFlag(flag: string, text: string | undefined, min: number, max: number, integer = false): number | undefined {
  if (text === undefined) return undefined;
  const v = text.trim() === '' ? NaN : Number(text);
  if (!(v >= min && v <= max) || (integer && !Number.isInteger(v))) {
    throw new CliError(`${flag}: must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got '${text}')`);
  }
  return v;
}
