// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cocoon.Oci.Content;

namespace Cocoon.Oci.Registry;

/// <summary>A manifest or index as a registry served it.</summary>
internal sealed record ManifestDocument(byte[] Content, string MediaType, string Digest);

/// <summary>
/// A client of the OCI distribution API (<c>/v2/&lt;name&gt;/manifests|blobs/&lt;ref&gt;</c>) on
/// <see cref="HttpClient"/>.
/// </summary>
/// <remarks>
/// Authentication follows the registry's challenge:
/// <code>
///   1. send the request (with the Authorization this client already holds for the registry/repository)
///   2. 401 + WWW-Authenticate: Bearer realm=…,service=…,scope=…
///        → GET realm?service=…&amp;scope=… (Basic with the stored credentials, else anonymous)
///        → {"token"} or {"access_token"} → retry once with "Bearer &lt;token&gt;"
///      401 + WWW-Authenticate: Basic → retry once with the stored credentials (none: error)
///   3. a second 401 (or 403), or a token endpoint that refuses: "auth refused", naming the registry
/// </code>
/// Scheme: HTTPS always, except for registries on a loopback host (<c>localhost</c>, 127.0.0.0/8,
/// <c>::1</c>) and those listed as insecure, where, as Docker does, HTTPS is tried first and plain
/// HTTP is used when the HTTPS connection cannot be made; the choice is remembered per registry.
/// </remarks>
internal sealed partial class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Func<string, NetworkCredential?> _credentials;
    private readonly HashSet<string> _insecure;
    private readonly ConcurrentDictionary<string, string> _schemes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _authorizations = new(StringComparer.Ordinal);

    /// <param name="credentials">Finds the stored credentials of a registry (null: anonymous).</param>
    /// <param name="insecureRegistries">Registries (host[:port]) that may be reached over plain HTTP.</param>
    /// <param name="handler">The HTTP handler; null for a <see cref="SocketsHttpHandler"/>.</param>
    public RegistryClient(Func<string, NetworkCredential?> credentials, IEnumerable<string>? insecureRegistries = null, HttpMessageHandler? handler = null)
    {
        _credentials = credentials;
        _insecure = new HashSet<string>(insecureRegistries ?? [], StringComparer.OrdinalIgnoreCase);
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("cocoon", "0.1"));
    }

    /// <summary>Fetches a manifest or index by tag or digest; the digest is computed from the bytes received.</summary>
    public async Task<ManifestDocument> GetManifestAsync(ImageReference image, string reference, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(image.Registry, image.Repository, $"/v2/{image.Repository}/manifests/{reference}", MediaTypes.ManifestAccept, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, image, $"manifest '{reference}' of {image.Name}");
        var content = await ReadBoundedAsync(response, 4 << 20, image, cancellationToken).ConfigureAwait(false);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!MediaTypes.IsIndex(mediaType) && !MediaTypes.IsManifest(mediaType))
        {
            mediaType = SniffMediaType(content);
        }

        return new ManifestDocument(content, mediaType ?? string.Empty, OciDigest.Compute(content));
    }

    /// <summary>Opens a blob's bytes; the caller verifies them and disposes the response.</summary>
    public async Task<HttpResponseMessage> GetBlobAsync(ImageReference image, string digest, CancellationToken cancellationToken)
    {
        var response = await SendAsync(image.Registry, image.Repository, $"/v2/{image.Repository}/blobs/{digest}", [], cancellationToken).ConfigureAwait(false);
        try
        {
            EnsureSuccess(response, image, $"blob {digest} of {image.Name}");
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Checks that <paramref name="registry"/> accepts the credentials the client finds for it (GET /v2/).</summary>
    public async Task CheckLoginAsync(string registry, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(registry, null, "/v2/", [], cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw AuthRefused(registry);
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"registry {registry} answered /v2/ with {(int)response.StatusCode} {response.ReasonPhrase}; is it an OCI registry?");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();

    /// <summary>Whether <paramref name="registry"/> may be reached over plain HTTP.</summary>
    internal bool AllowsPlainHttp(string registry) => IsLoopback(registry) || _insecure.Contains(registry);

    internal static bool IsLoopback(string registry)
    {
        var host = registry;
        if (host.StartsWith('['))
        {
            host = host[1..host.IndexOf(']', StringComparison.Ordinal)];
        }
        else if (host.LastIndexOf(':') is var colon and > 0)
        {
            host = host[..colon];
        }

        return host == "localhost" || (IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address));
    }

    private static CocoonException AuthRefused(string registry) => new(
        CocoonErrorCode.InvalidArgument,
        $"registry {registry} refused the request: authentication required or credentials rejected; run 'cocoon login {registry}'");

    private static string? SniffMediaType(byte[] content)
    {
        try
        {
            using var document = JsonDocument.Parse(content);
            if (document.RootElement.TryGetProperty("mediaType", out var type) && type.ValueKind == JsonValueKind.String)
            {
                return type.GetString();
            }

            return document.RootElement.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex
                : document.RootElement.TryGetProperty("layers", out _) ? MediaTypes.OciManifest
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, int limit, ImageReference image, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new CocoonException(CocoonErrorCode.InvalidArgument, $"the manifest of {image} is larger than {limit} bytes; refusing it");
        }

        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw new CocoonException(CocoonErrorCode.InvalidArgument, $"the manifest of {image} is larger than {limit} bytes; refusing it");
            }
        }

        return buffer.ToArray();
    }

    private static void EnsureSuccess(HttpResponseMessage response, ImageReference image, string what)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var detail = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        throw response.StatusCode switch
        {
            HttpStatusCode.NotFound => new CocoonException(CocoonErrorCode.NotFound, $"image '{image}' not found: registry {image.Registry} has no {what} ({detail}); check the name and tag"),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => AuthRefused(image.Registry),
            HttpStatusCode.TooManyRequests => new CocoonException(CocoonErrorCode.ResourceExhausted, $"registry {image.Registry} is rate-limiting requests for {what} ({detail}); try again later or log in"),
            _ => new CocoonException(CocoonErrorCode.Unavailable, $"registry {image.Registry} failed the request for {what} ({detail})"),
        };
    }

    // :: Steps 1–3 of the remarks.
    private async Task<HttpResponseMessage> SendAsync(
        string registry, string? repository, string path, string[] accept, CancellationToken cancellationToken)
    {
        var authKey = registry + "/" + repository;
        var response = await SendOnceAsync(registry, path, accept, _authorizations.GetValueOrDefault(authKey), cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
        response.Dispose();
        var authorization = await AuthorizeAsync(registry, repository, challenge, cancellationToken).ConfigureAwait(false);
        _authorizations[authKey] = authorization;
        response = await SendOnceAsync(registry, path, accept, authorization, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw AuthRefused(registry);
        }

        return response;
    }

    private async Task<AuthenticationHeaderValue> AuthorizeAsync(
        string registry, string? repository, AuthenticationHeaderValue? challenge, CancellationToken cancellationToken)
    {
        var credential = _credentials(registry);
        if (challenge is null || challenge.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase))
        {
            return credential is null ? throw AuthRefused(registry) : Basic(credential);
        }

        if (!challenge.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            throw new CocoonException(CocoonErrorCode.Unsupported, $"registry {registry} asks for '{challenge.Scheme}' authentication; Cocoon speaks Basic and Bearer");
        }

        var parameters = ChallengeParameter().Matches(challenge.Parameter ?? string.Empty)
            .ToDictionary(m => m.Groups[1].Value.ToLowerInvariant(), m => m.Groups[2].Value, StringComparer.Ordinal);
        if (!parameters.TryGetValue("realm", out var realm) || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) ||
            (realmUri.Scheme != Uri.UriSchemeHttps && !(realmUri.Scheme == Uri.UriSchemeHttp && AllowsPlainHttp(realmUri.Authority))))
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"registry {registry} sent a Bearer challenge without a usable https realm ('{challenge.Parameter}')");
        }

        var query = new StringBuilder();
        if (parameters.TryGetValue("service", out var service))
        {
            query.Append("service=").Append(Uri.EscapeDataString(service));
        }

        var scope = parameters.GetValueOrDefault("scope") ?? (repository is null ? null : $"repository:{repository}:pull");
        if (scope is not null)
        {
            query.Append(query.Length > 0 ? "&" : string.Empty).Append("scope=").Append(Uri.EscapeDataString(scope));
        }

        var tokenUri = new UriBuilder(realmUri) { Query = query.ToString() }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
        if (credential is not null)
        {
            request.Headers.Authorization = Basic(credential);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CocoonException(CocoonErrorCode.Unavailable, $"cannot reach the token service {realmUri.GetLeftPart(UriPartial.Path)} of registry {registry}: {e.Message}", e);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw AuthRefused(registry);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new CocoonException(CocoonErrorCode.Unavailable, $"the token service of registry {registry} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            RegistryToken? token;
            try
            {
                token = JsonSerializer.Deserialize(await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false), OciJsonContext.Default.RegistryToken);
            }
            catch (JsonException e)
            {
                throw new CocoonException(CocoonErrorCode.Unavailable, $"the token service of registry {registry} answered something that is not a token: {e.Message}", e);
            }

            var value = token?.Token ?? token?.AccessToken;
            return string.IsNullOrEmpty(value)
                ? throw new CocoonException(CocoonErrorCode.Unavailable, $"the token service of registry {registry} answered without a token")
                : new AuthenticationHeaderValue("Bearer", value);
        }
    }

    private async Task<HttpResponseMessage> SendOnceAsync(
        string registry, string path, string[] accept, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        var host = registry == ImageReference.DockerHub ? "registry-1.docker.io" : registry;
        if (_schemes.TryGetValue(registry, out var known))
        {
            return await SendToAsync(known, host, registry, path, accept, authorization, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var response = await SendToAsync("https", host, registry, path, accept, authorization, cancellationToken).ConfigureAwait(false);
            _schemes[registry] = "https";
            return response;
        }
        catch (CocoonException httpsFailure) when (AllowsPlainHttp(registry) && httpsFailure.Code == CocoonErrorCode.Unavailable)
        {
            try
            {
                var response = await SendToAsync("http", host, registry, path, accept, authorization, cancellationToken).ConfigureAwait(false);
                _schemes[registry] = "http";
                return response;
            }
            catch (CocoonException httpFailure) when (httpFailure.Code == CocoonErrorCode.Unavailable)
            {
                throw new CocoonException(CocoonErrorCode.Unavailable, $"{httpsFailure.Message}; over plain http: {httpFailure.InnerException?.Message}", httpFailure);
            }
        }
    }

    private async Task<HttpResponseMessage> SendToAsync(
        string scheme, string host, string registry, string path, string[] accept, AuthenticationHeaderValue? authorization, CancellationToken cancellationToken)
    {
        var uri = new Uri($"{scheme}://{host}{path}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        foreach (var type in accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        request.Headers.Authorization = authorization;
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new CocoonException(
                CocoonErrorCode.Unavailable,
                $"cannot reach registry {registry} at {scheme}://{host}: {e.Message}; check the name, the network, and that the registry is running",
                e);
        }
    }

    private static AuthenticationHeaderValue Basic(NetworkCredential credential) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Password)));

    [GeneratedRegex(@"(\w+)=""([^""]*)""")]
    private static partial Regex ChallengeParameter();
}
