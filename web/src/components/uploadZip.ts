// A release zip sent as the request body (application/zip), with progress: fetch cannot report
// how much of a body has gone, and a release zip is hundreds of megabytes, so this one request
// uses XMLHttpRequest. Errors are the same ApiError (with the API's detail) as `request` throws.

import { ApiError, csrfHeaders } from '../api.js';

/** Bytes sent so far and of how many (total 0 when unknown). */
export type UploadProgress = (sent: number, total: number) => void;

/** POSTs `file` to `path` and resolves with the JSON answer. */
export function uploadZip<T>(path: string, file: Blob, onProgress: UploadProgress): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    xhr.setRequestHeader('content-type', 'application/zip');
    xhr.setRequestHeader('accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onerror = () => reject(new ApiError(0, 'the upload was cut off before the server answered: check the connection and try again'));
    xhr.onload = () => {
      let json: { detail?: string; title?: string } | undefined;
      try {
        json = xhr.responseText ? (JSON.parse(xhr.responseText) as typeof json) : undefined;
      } catch {
        json = { detail: xhr.responseText.slice(0, 300) };
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json as T);
      else reject(new ApiError(xhr.status, json?.detail ?? json?.title ?? `${xhr.status} ${xhr.statusText}`));
    };
    xhr.send(file);
  });
}
