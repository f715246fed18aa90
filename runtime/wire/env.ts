/**
 * The secrets, from the environment (the unit's EnvironmentFile, a sops template readable by the
 * wire account alone). Names are fixed; generators/secrets.ts writes the same ones.
 */
export const WIRE_ENV = {
  sonarrApiKey: "MP_SONARR_API_KEY",
  sonarrPassword: "MP_SONARR_PASSWORD",
  radarrApiKey: "MP_RADARR_API_KEY",
  radarrPassword: "MP_RADARR_PASSWORD",
  prowlarrApiKey: "MP_PROWLARR_API_KEY",
  prowlarrPassword: "MP_PROWLARR_PASSWORD",
  jellyfinPassword: "MP_JELLYFIN_PASSWORD",
} as const;
