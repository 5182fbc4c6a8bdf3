// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Net;
using System.Text;

namespace Cocoon.Oci.Registry.Tests;

public sealed class RegistryClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly byte[] Manifest = Encoding.UTF8.GetBytes("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}""");

    [Fact]
    public async Task GetManifest_BearerChallenge_TokenFetchedWithStoredCredentials()
    {
        var handler = new FakeRegistry(anonymousTokens: false);
        using var client = new RegistryClient(_ => new NetworkCredential("user", "secret"), handler: handler);

        var document = await client.GetManifestAsync(ImageReference.Parse("reg.example/app:1"), "1", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(Manifest, document.Content);
        Assert.Equal(OciDigest.Compute(Manifest), document.Digest);
        Assert.Equal(MediaTypes.OciManifest, document.MediaType);
        var tokenRequest = Assert.Single(handler.Requests, r => r.Host == "auth.example");
        Assert.Equal("?service=reg.example&scope=repository%3Aapp%3Apull", tokenRequest.Query);
    }

    [Fact]
    public async Task GetManifest_AnonymousTokenService_PullsWithoutCredentials()
    {
        var handler = new FakeRegistry(anonymousTokens: true);
        using var client = new RegistryClient(_ => null, handler: handler);

        var document = await client.GetManifestAsync(ImageReference.Parse("reg.example/app:1"), "1", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(Manifest, document.Content);
    }

    [Fact]
    public async Task GetManifest_WrongCredentials_AuthRefusedNamesRegistry()
    {
        using var client = new RegistryClient(_ => new NetworkCredential("user", "wrong"), handler: new FakeRegistry(anonymousTokens: false));

        var error = await Assert.ThrowsAsync<CocoonException>(() => client.GetManifestAsync(ImageReference.Parse("reg.example/app:1"), "1", CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.InvalidArgument, error.Code);
        Assert.Contains("registry reg.example refused", error.Message, StringComparison.Ordinal);
        Assert.Contains("cocoon login reg.example", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_RemoteRegistryWithoutTls_NoPlainHttpFallback()
    {
        var handler = new FakeRegistry(anonymousTokens: true) { HttpsWorks = false };
        using var client = new RegistryClient(_ => null, handler: handler);

        var error = await Assert.ThrowsAsync<CocoonException>(() => client.GetManifestAsync(ImageReference.Parse("reg.example/app:1"), "1", CancellationToken.None)).WaitAsync(Timeout);

        Assert.Equal(CocoonErrorCode.Unavailable, error.Code);
        Assert.Contains("https://reg.example", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(handler.Requests, r => r.Scheme == "http");
    }

    [Theory]
    [InlineData("localhost:5000/app:1", null)]
    [InlineData("127.0.0.1:5000/app:1", null)]
    [InlineData("[::1]:5000/app:1", null)]
    [InlineData("reg.example/app:1", "reg.example")]
    public async Task Send_LoopbackOrInsecureRegistry_FallsBackToHttp(string reference, string? insecure)
    {
        var handler = new FakeRegistry(anonymousTokens: true) { HttpsWorks = false };
        using var client = new RegistryClient(_ => null, insecure is null ? null : [insecure], handler);

        var document = await client.GetManifestAsync(ImageReference.Parse(reference), "1", CancellationToken.None).WaitAsync(Timeout);

        Assert.Equal(Manifest, document.Content);
        Assert.Contains(handler.Requests, r => r.Scheme == "https");
        Assert.Contains(handler.Requests, r => r.Scheme == "http");
    }

    /// <summary>A registry that demands a bearer token from auth.example for every /v2/ request.</summary>
    private sealed class FakeRegistry(bool anonymousTokens) : HttpMessageHandler
    {
        public bool HttpsWorks { get; init; } = true;

        public List<Uri> Requests { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            lock (Requests)
            {
                Requests.Add(uri);
            }

            if (uri.Scheme == "https" && !HttpsWorks && uri.Host != "auth.example")
            {
                throw new HttpRequestException("The SSL connection could not be established");
            }

            var authorization = request.Headers.Authorization;
            if (uri.Host == "auth.example")
            {
                var basic = authorization is { Scheme: "Basic" } ? Encoding.UTF8.GetString(Convert.FromBase64String(authorization.Parameter!)) : null;
                return Task.FromResult(basic == "user:secret" || (basic is null && anonymousTokens)
                    ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"token":"t0k"}""") }
                    : new HttpResponseMessage(HttpStatusCode.Unauthorized));
            }

            if (authorization is { Scheme: "Bearer", Parameter: "t0k" })
            {
                var ok = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Manifest) };
                ok.Content.Headers.ContentType = new(MediaTypes.OciManifest);
                return Task.FromResult(ok);
            }

            var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
            challenge.Headers.WwwAuthenticate.ParseAdd($"Bearer realm=\"https://auth.example/token\",service=\"{uri.Authority}\",scope=\"repository:app:pull\"");
            return Task.FromResult(challenge);
        }
    }
}
