// A device's firmware on its page: the version it reports, the target it follows and from which
// layer (the explanation of polyprov.firmware.version, so a rollout or a model target shows as
// such), and its own pin: the device layer's target, set or removed here.

import { useCallback, useEffect, useState } from 'react';
import { messageOf, request, seg } from '../api.js';
import type { ExplainedParameter, Explanation } from '../types.js';
import { ErrorNote } from './ErrorNote.js';
import { FirmwareTargetForm } from './FirmwareTargetForm.js';
import { targetableVersions, useFirmwareReleases } from './useFirmwareReleases.js';

const TARGET_PARAMETER = 'polyprov.firmware.version';

function layerText(p: ExplainedParameter): string {
  if (p.layer === null) return 'no layer';
  return p.ref && p.layer !== 'tenant' && p.layer !== 'defaults' ? `${p.layer} ${p.ref}` : p.layer;
}

interface Props {
  tenant: string;
  mac: string;
  /** The version the phone last reported, or null. */
  running: string | null;
  canWrite: boolean;
  /** Called after the pin changed, so the page's explanation is read again. */
  onChanged(): void;
}

export function DeviceFirmware({ tenant, mac, running, canWrite, onChanged }: Props) {
  const { releases, error: releasesError } = useFirmwareReleases(tenant);
  const [effective, setEffective] = useState<ExplainedParameter | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  const readEffective = useCallback(() => {
    request<Explanation>('GET', `/api/v1/tenants/${seg(tenant)}/devices/${seg(mac)}/explain`)
      .then(({ data }) => setEffective(data.parameters.find((p) => p.name === TARGET_PARAMETER) ?? null))
      .catch((err: unknown) => setError(messageOf(err)));
  }, [tenant, mac]);
  useEffect(readEffective, [readEffective]);

  return (
    <section id="firmware" aria-labelledby="device-firmware-heading" className="device-firmware">
      <h2 id="device-firmware-heading">Firmware</h2>
      <ErrorNote error={error ?? releasesError} />
      <dl className="facts">
        <dt>Running</dt>
        <dd className="mono">{running ?? 'not reported yet'}</dd>
        <dt>Effective target</dt>
        <dd data-testid="device-effective-target">
          {effective === undefined ? (
            '…'
          ) : effective === null || effective.value === null ? (
            'none: the phone keeps what it runs'
          ) : (
            <>
              <span className="mono">{effective.value}</span> <span className="muted">(from {layerText(effective)})</span>
            </>
          )}
        </dd>
      </dl>
      <FirmwareTargetForm
        tenant={tenant}
        scope={`device:${mac}`}
        versions={targetableVersions(releases)}
        canWrite={canWrite}
        wording={{
          title: 'Pin this device',
          versionLabel: 'Pin to version',
          setLabel: 'Pin device',
          unsetLabel: 'Remove the pin',
          unsetQuestion: 'Remove the pin? The device follows its site, group, model or tenant target again.',
          none: 'Not pinned: the device follows the target of its other layers.',
        }}
        onChanged={() => {
          readEffective();
          onChanged();
        }}
      />
    </section>
  );
}
