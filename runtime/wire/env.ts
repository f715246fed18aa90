/**
 * Where the wire job's secrets come from. On a host: systemd credentials (LoadCredential=), one file
 * per secret in $CREDENTIALS_DIRECTORY, read by systemd as root from the sops secret's own file, so
 * the bytes arrive as written (an EnvironmentFile would strip quotes and backslashes from a password).
 * Without a credentials directory (a run by hand, the tests): the MP_* environment variables.
 * generators/model/units.ts writes the same credential names.
 */
export const WIRE_CREDENTIALS = {
  sonarrApiKey: "sonarr-api-key",
  sonarrPassword: "sonarr-password",
  radarrApiKey: "radarr-api-key",
  radarrPassword: "radarr-password",
  prowlarrApiKey: "prowlarr-api-key",
  prowlarrPassword: "prowlarr-password",
  jellyfinPassword: "jellyfin-password",
} as const;

export const WIRE_ENV = {
  sonarrApiKey: "MP_SONARR_API_KEY",
  sonarrPassword: "MP_SONARR_PASSWORD",
  radarrApiKey: "MP_RADARR_API_KEY",
  radarrPassword: "MP_RADARR_PASSWORD",
  prowlarrApiKey: "MP_PROWLARR_API_KEY",
  prowlarrPassword: "MP_PROWLARR_PASSWORD",
  jellyfinPassword: "MP_JELLYFIN_PASSWORD",
} as const;
