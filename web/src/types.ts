// The shapes of the API answers the console reads (see /api/v1/openapi.json).

export interface User {
  username: string;
  role: string;
  tenant: string | null;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface Tenant {
  slug: string;
  name: string;
}

export interface Site {
  slug: string;
  name: string;
  description: string;
  location: string;
  tftpSubnets: string[];
}

export interface Device {
  mac: string;
  registered: boolean;
  label: string;
  site: string | null;
  group: string | null;
  inventory: {
    firstSeen: string | null;
    lastSeen: string | null;
    lastIp: string | null;
    model: string | null;
    firmware: string | null;
    phase: string | null;
    serial: string | null;
    lastFile: string | null;
    userAgent: string | null;
  };
}

export interface ParameterLayer {
  scope: string;
  parameters: Record<string, string>;
  warnings?: string[];
}

export interface NameCheck {
  name: string;
  known: boolean;
  suggestions: string[];
}

export interface ShadowedValue {
  layer: string;
  ref: string | null;
  value: string;
}

export interface ExplainedParameter {
  name: string;
  value: string | null;
  layer: string | null;
  ref: string | null;
  shadows: ShadowedValue[];
  override?: { source: string; value: string; path: string; version: number };
  effective: string;
}

export interface Explanation {
  mac: string;
  registered: boolean;
  model: string | null;
  site: string | null;
  group: string | null;
  configFiles?: string[];
  parameters: ExplainedParameter[];
  notes: string[];
}
