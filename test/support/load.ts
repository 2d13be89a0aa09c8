import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import type {FixtureFile} from './fixtures.js';

export const FIXTURE_FILES = ['batch_norm', 'layer_norm', 'group_norm', 'instance_norm'] as const;

export function loadFixtures(name: string): FixtureFile {
  return JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', `${name}.json`), 'utf8')) as FixtureFile;
}
