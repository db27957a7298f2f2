import { DomainError } from './domain-error.js';
import { quoteInput } from './quote-input.js';
import type { XmlElement } from './xml-document.js';
import { renderXmlDocument } from './xml-document.js';

/** Where phones upload and look for their own files, relative to the boot-server URL or absolute. */
export interface MasterDirectories {
  log: string;
  overrides: string;
  contacts: string;
  license: string;
  callLists: string;
  coreFiles: string;
}

export interface MasterFileSpec {
  appFilePath: string;
  /** The VVX D60 DECT base image the VVX fetches and pushes to the base (fact sheet §11). */
  dectFilePath?: string;
  configFiles: readonly string[];
  directories: MasterDirectories;
  /** tag = master tag, e.g. 'VVX500' */
  perModel?: readonly { tag: string; appFilePath?: string; configFiles?: readonly string[] }[];
  /** emitted as an XML comment after the declaration */
  comment?: string;
}

const TAG = /^[A-Za-z0-9]+$/;
// Phones split CONFIG_FILES on commas, so a comma inside one name would turn it into two files.
const UNSPLITTABLE = /[,\t\n\r]/;

function configFilesAttribute(files: readonly string[], owner: string): string {
  for (const file of files) {
    if (file.trim() === '' || UNSPLITTABLE.test(file) || file !== file.trim()) {
      throw new DomainError(
        `invalid configuration file name ${quoteInput(file)} in ${owner}: expected a non-empty file name or URL without commas, tabs, line breaks or surrounding spaces`,
      );
    }
  }
  return files.join(', ');
}

function requireSingleLine(value: string, what: string): string {
  if (/[\t\n\r]/.test(value)) {
    throw new DomainError(`${what} ${quoteInput(value)} contains a tab or line break: expected a path or URL on one line`);
  }
  return value;
}

function perModelElement(entry: NonNullable<MasterFileSpec['perModel']>[number]): XmlElement {
  if (!TAG.test(entry.tag)) {
    throw new DomainError(
      `invalid master-file model tag ${quoteInput(entry.tag)}: expected letters and digits only, e.g. VVX500 (the UA model id without "_")`,
    );
  }
  const attributes: [string, string][] = [];
  if (entry.appFilePath !== undefined) {
    attributes.push([`APP_FILE_PATH_${entry.tag}`, requireSingleLine(entry.appFilePath, `APP_FILE_PATH_${entry.tag}`)]);
  }
  if (entry.configFiles !== undefined) {
    attributes.push([`CONFIG_FILES_${entry.tag}`, configFilesAttribute(entry.configFiles, `CONFIG_FILES_${entry.tag}`)]);
  }
  return { name: `APPLICATION_${entry.tag}`, attributes };
}

/** The master configuration file (000000000000.cfg or <mac>.cfg) in the layout of Poly's stock file. */
export function renderMasterFile(spec: MasterFileSpec): string {
  const perModel = spec.perModel ?? [];
  const seen = new Set<string>();
  for (const { tag } of perModel) {
    if (seen.has(tag)) {
      throw new DomainError(`model tag ${quoteInput(tag)} is given twice: each model may have one entry`);
    }
    seen.add(tag);
  }
  const dirs = spec.directories;
  const root: XmlElement = {
    name: 'APPLICATION',
    attributes: [
      ['APP_FILE_PATH', requireSingleLine(spec.appFilePath, 'APP_FILE_PATH')],
      ...(spec.dectFilePath !== undefined ? [['DECT_FILE_PATH', requireSingleLine(spec.dectFilePath, 'DECT_FILE_PATH')] as [string, string]] : []),
      ['CONFIG_FILES', configFilesAttribute(spec.configFiles, 'CONFIG_FILES')],
      ['MISC_FILES', ''],
      ['LOG_FILE_DIRECTORY', requireSingleLine(dirs.log, 'LOG_FILE_DIRECTORY')],
      ['OVERRIDES_DIRECTORY', requireSingleLine(dirs.overrides, 'OVERRIDES_DIRECTORY')],
      ['CONTACTS_DIRECTORY', requireSingleLine(dirs.contacts, 'CONTACTS_DIRECTORY')],
      ['LICENSE_DIRECTORY', requireSingleLine(dirs.license, 'LICENSE_DIRECTORY')],
      ['USER_PROFILES_DIRECTORY', ''],
      ['CALL_LISTS_DIRECTORY', requireSingleLine(dirs.callLists, 'CALL_LISTS_DIRECTORY')],
      ['COREFILE_DIRECTORY', requireSingleLine(dirs.coreFiles, 'COREFILE_DIRECTORY')],
    ],
    children: perModel.map(perModelElement),
  };
  return renderXmlDocument({ version: '1.0', standalone: 'yes' }, root, spec.comment);
}
