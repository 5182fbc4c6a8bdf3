// Copyright (c) Cocoon contributors. Licensed under the MIT License.

using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Cocoon.Oci;

namespace Cocoon.Tests.Common.Images;

/// <summary>
/// A real registry (Debian's docker-registry, the CNCF distribution server) on a loopback port,
/// with htpasswd (bcrypt) basic auth when credentials are given; stopped and deleted on dispose.
/// </summary>
public sealed class LocalRegistry : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http = new();

    private LocalRegistry(Process process, string directory, int port, NetworkCredential? credential)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Credential = credential;
        if (credential is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.UserName}:{credential.Password}")));
        }
    }

    public int Port { get; }

    /// <summary>host:port, a loopback registry Cocoon reaches over plain HTTP.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public NetworkCredential? Credential { get; }

    /// <summary>Where the registry keeps its blobs: tests tamper with them here.</summary>
    public string StorageDirectory => Path.Combine(_directory, "data");

    public static async Task<LocalRegistry> StartAsync(string directory, NetworkCredential? credential = null)
    {
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var config = new StringBuilder($"""
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: {Path.Combine(directory, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}

            """);
        if (credential is not null)
        {
            var htpasswd = await ProcessRunner.RunAsync("htpasswd", ["-nbB", credential.UserName, credential.Password], Timeout);
            Check(htpasswd.ExitCode == 0, htpasswd.Stderr);
            await File.WriteAllTextAsync(Path.Combine(directory, "htpasswd"), htpasswd.Stdout.Trim() + "\n");
            config.Append($"""
                auth:
                  htpasswd:
                    realm: cocoon-test
                    path: {Path.Combine(directory, "htpasswd")}

                """);
        }

        var configPath = Path.Combine(directory, "config.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());
        var start = new ProcessStartInfo("sh", ["-c", $"exec docker-registry serve '{configPath}' >'{directory}/registry.log' 2>&1"]) { UseShellExecute = false };
        var registry = new LocalRegistry(Process.Start(start)!, directory, port, credential);
        try
        {
            await registry.WaitReadyAsync();
            return registry;
        }
        catch
        {
            await registry.DisposeAsync();
            throw;
        }
    }

    /// <summary>Pushes an OCI layout's tag with skopeo.</summary>
    public async Task PushLayoutAsync(string layout, string tag, string repositoryAndTag)
    {
        var arguments = new List<string> { "copy", "--quiet", "--dest-tls-verify=false" };
        if (Credential is not null)
        {
            arguments.Add($"--dest-creds={Credential.UserName}:{Credential.Password}");
        }

        arguments.AddRange([$"oci:{layout}:{tag}", $"docker://{Host}/{repositoryAndTag}"]);
        var result = await ProcessRunner.RunAsync("skopeo", arguments, Timeout);
        Check(result.ExitCode == 0, $"skopeo copy failed: {result.Stderr}");
    }

    /// <summary>Uploads a blob through the distribution API (monolithic upload); returns its digest.</summary>
    public async Task<string> PushBlobAsync(string repository, byte[] content)
    {
        var digest = OciDigest.Compute(content);
        using var start = await _http.PostAsync($"http://{Host}/v2/{repository}/blobs/uploads/", null);
        Check(start.StatusCode == HttpStatusCode.Accepted, $"{(int)start.StatusCode} from the registry");
        var location = new Uri(new Uri($"http://{Host}"), start.Headers.Location!);
        var separator = location.Query.Length > 0 ? "&" : "?";
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync($"{location}{separator}digest={Uri.EscapeDataString(digest)}", body);
        Check(put.StatusCode == HttpStatusCode.Created, $"{(int)put.StatusCode} from the registry");
        return digest;
    }

    /// <summary>Uploads a manifest or index under a tag; returns its digest.</summary>
    public async Task<string> PushManifestAsync(string repository, string tag, string json, string mediaType)
    {
        using var body = new StringContent(json);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync($"http://{Host}/v2/{repository}/manifests/{tag}", body);
        Check(put.StatusCode == HttpStatusCode.Created, $"manifest upload: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        return OciDigest.Compute(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>The file the registry serves <paramref name="digest"/> from.</summary>
    public string BlobDataPath(string digest)
    {
        var hex = OciDigest.Hex(digest);
        return Path.Combine(StorageDirectory, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(Timeout);
        }

        _process.Dispose();
        _http.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitReadyAsync()
    {
        var deadline = DateTime.UtcNow + Timeout;
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {_process.ExitCode}: {File.ReadAllText(Path.Combine(_directory, "registry.log"))}");
            }

            try
            {
                using var response = await probe.GetAsync($"http://{Host}/v2/");
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException(message);
        }
    }
}
