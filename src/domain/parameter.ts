import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import { codeUnitLabel, findNonXmlChar } from './xml-chars.js';

const MAX_NAME_LENGTH = 200;
const MAX_VALUE_LENGTH = 65536;

// Master-file attributes (APP_FILE_PATH, CONFIG_FILES, LOG_FILE_DIRECTORY, APP_FILE_PATH_Trio8800 ...)
// are upper-case words joined by "_"; Polycom parameters are dotted camelCase.
const MASTER_FILE_ATTRIBUTE = /^[A-Z][A-Z0-9]*_[A-Z0-9]/;

export function isDeviceParameter(name: string): boolean {
  return name.startsWith('device.');
}

function isDeviceSetMarker(name: string): boolean {
  return name === 'device.set' || (isDeviceParameter(name) && name.endsWith('.set'));
}

// The shape of every valid name, checked first: renderers validate each name again, so the common
// case must cost one regex test; the detailed checks below only run to explain a rejection.
// "-" occurs in real names: reg.1.acd-agent-available, voIpProt.SIP.ms-forking.
const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)+$/;

/** Returns the name if it is a Polycom configuration parameter name polyprov may store; throws otherwise. */
export function validateParameterName(name: string): string {
  if (name.length <= MAX_NAME_LENGTH && PLAIN_NAME.test(name) && !isDeviceSetMarker(name)) return name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new DomainError('parameter name is empty: expected a dotted Polycom name such as reg.1.address');
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new DomainError(
      `parameter name ${quoteInput(name)} is ${name.length} characters long: at most ${MAX_NAME_LENGTH} are allowed`,
    );
  }
  if (!name.includes('.') && MASTER_FILE_ATTRIBUTE.test(name)) {
    throw new DomainError(
      `${quoteInput(name)} is a master-file attribute, not a configuration parameter: set the application image and configuration files in the tenant, model or device settings instead`,
    );
  }
  if (!/^[A-Za-z]/.test(name)) {
    throw new DomainError(
      `invalid parameter name ${quoteInput(name)}: it must start with a letter, e.g. reg.1.address`,
    );
  }
  const badChar = /[^A-Za-z0-9_.-]/u.exec(name);
  if (badChar) {
    throw new DomainError(
      `invalid parameter name ${quoteInput(name)}: character ${quoteInput(badChar[0])} is not allowed; names are "."-separated segments of letters, digits, "_" and "-"`,
    );
  }
  const emptyAt = name.split('.').indexOf('');
  if (emptyAt !== -1) {
    throw new DomainError(
      `invalid parameter name ${quoteInput(name)}: segment ${emptyAt + 1} is empty (leading, trailing or doubled "."); expected dotted segments such as reg.1.address`,
    );
  }
  if (isDeviceSetMarker(name)) {
    throw new DomainError(
      `${quoteInput(name)} cannot be set: polyprov adds device.set="1" and <name>.set="1" automatically for every device.* parameter it sends; set the device parameter itself`,
    );
  }
  return name;
}

/** Returns the value if it can be written to a configuration file for parameter `name`; throws otherwise. */
export function validateParameterValue(name: string, value: string): string {
  if (typeof value !== 'string') {
    throw new DomainError(`value of ${quoteInput(name)} must be a string`);
  }
  if (value.length > MAX_VALUE_LENGTH) {
    throw new DomainError(
      `value of ${quoteInput(name)} is ${value.length} characters long: at most ${MAX_VALUE_LENGTH} are allowed`,
    );
  }
  const bad = findNonXmlChar(value);
  if (bad) {
    throw new DomainError(
      `value of ${quoteInput(name)} contains ${codeUnitLabel(bad.char)} at position ${bad.index}, which XML files cannot carry: remove it (TAB, LF and CR are allowed)`,
    );
  }
  return value;
}

/** The CLI's name=value form; the value may be empty and may itself contain "=". */
export function parseAssignment(text: string): { name: string; value: string } {
  const at = typeof text === 'string' ? text.indexOf('=') : -1;
  if (at === -1) {
    throw new DomainError(
      `expected name=value, e.g. reg.1.address=1001, but got ${quoteInput(text)} (no "=")`,
    );
  }
  const name = validateParameterName(text.slice(0, at).trim());
  const value = validateParameterValue(name, text.slice(at + 1));
  return { name, value };
}
