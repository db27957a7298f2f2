import { useMemo, useState } from 'react';
import { seg } from '../api.js';
import { ErrorNote } from '../components/ErrorNote.js';
import { FirmwareFleetTable } from '../components/FirmwareFleetTable.js';
import { FirmwareReleasesTable } from '../components/FirmwareReleasesTable.js';
import { FirmwareTargetForm } from '../components/FirmwareTargetForm.js';
import { FirmwareUploadForm } from '../components/FirmwareUploadForm.js';
import { targetableVersions, useFirmwareReleases } from '../components/useFirmwareReleases.js';
import { Link } from '../router.js';

/**
 * The tenant's firmware: the releases its phones can be sent to (upload, remove), the tenant-wide
 * target, and how the fleet stands against its targets. Rollouts have their own pages.
 */
export function FirmwarePage({ tenant, canWrite = true }: { tenant: string; canWrite?: boolean }) {
  const { releases, error, reload } = useFirmwareReleases(tenant);
  const versions = useMemo(() => targetableVersions(releases), [releases]);
  // Bumped by each change that can move a phone's target, so the fleet table is read again.
  const [changes, setChanges] = useState(0);
  const changed = () => setChanges((n) => n + 1);

  return (
    <section>
      <div className="title-row">
        <h1>Firmware</h1>
        <Link to={`/t/${seg(tenant)}/rollouts`}>Staged rollouts</Link>
      </div>
      <ErrorNote error={error} />
      <div className="fw-columns">
        <div>
          <h2>Releases</h2>
          {releases && (
            <FirmwareReleasesTable
              tenant={tenant}
              releases={releases}
              canWrite={canWrite}
              onRemoved={() => {
                reload();
                changed();
              }}
            />
          )}
          {canWrite && <FirmwareUploadForm tenant={tenant} onUploaded={reload} />}
        </div>
        <div>
          {releases && (
            <FirmwareTargetForm
              tenant={tenant}
              scope="tenant"
              versions={versions}
              canWrite={canWrite}
              wording={{
                title: 'Tenant target',
                versionLabel: 'Target version',
                setLabel: 'Set target',
                unsetLabel: 'Unset target',
                unsetQuestion: 'Unset the tenant target? Phones without a target of their site, group, model or own keep what they run.',
                none: 'No tenant-wide target: phones keep what they run unless a site, group, model or device sets one.',
              }}
              onChanged={changed}
            />
          )}
          <FirmwareFleetTable tenant={tenant} refresh={changes} />
        </div>
      </div>
    </section>
  );
}
