// Timelines are read through the API by the recording's tenant: they say that an email went out
// and to whom in a form the owner recognises, without handing out the address itself.

const ADDRESS = /([^\s<>@"',;:()[\]]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,63})/g;

/** "owner@example.com" → "o***@example.com". */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf("@");
  if (at <= 0) return "***";
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}

/** Every address in a text masked (SMTP answers often quote the recipient). */
export function maskAddresses(text: string): string {
  return text.replace(
    ADDRESS,
    (_whole, local: string, domain: string) => `${local.slice(0, 1)}***@${domain}`,
  );
}
