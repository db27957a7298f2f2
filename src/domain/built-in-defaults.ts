/**
 * The least specific policy layer: what polyprov needs from every phone to work as designed.
 * Anything here can be overridden per tenant, model, site, group or device.
 *
 * No device.* setting belongs here: one would put device.set="1" in every phone's configuration,
 * and phones then rewrite their flash settings (and some reboot) on every provisioning pass.
 * device.prov.tagSerialNo would help identification, so tenants may set it; the core attributes
 * MAC-less requests by the phone's recent IP address instead.
 */
export const BUILT_IN_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  // Phones upload <mac>-phone.cfg / <mac>-web.cfg so the server can keep users' own changes.
  'prov.autoConfigUpload.enabled': '1',
  // Log uploads are appended to the server's copy instead of replacing it, so history survives.
  'log.render.file.upload.append': '1',
  // A check-sync NOTIFY then reboots the phone only when its configuration or software changed.
  'voIpProt.SIP.specialEvent.checkSync.alwaysReboot': '0',
});
