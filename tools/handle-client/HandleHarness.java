/*
 * Test client for the identifier's native Handle protocol server (RFC 3651/3652).
 *
 * Drives the Handle System's own Java client library (net.handle:handle-client, jars
 * fetched by tools/handle-client/pom.xml) so e2e tests talk to the server exactly as a
 * real Handle client does. Compiled and started by tools/handle-client/harness.cjs.
 *
 * Protocol: one JSON request per line on stdin, one JSON response per line on stdout.
 * Requests run concurrently; responses carry the request's "id" and may come back in
 * any order. The first stdout line is {"ready":true,...}. Library diagnostics go to
 * stderr (System.out is redirected there), so stdout carries only protocol lines.
 * See tools/handle-client/harness.d.ts for the request/response shapes.
 *
 * Every request is sent straight to the given server (a SiteInfo/ServerInfo built here,
 * never the global registry or root info) over exactly the requested transport.
 */

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractRequest;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.AddValueRequest;
import net.handle.hdllib.AdminRecord;
import net.handle.hdllib.Attribute;
import net.handle.hdllib.AuthenticationInfo;
import net.handle.hdllib.ClientSessionTracker;
import net.handle.hdllib.Common;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.CreateHandleResponse;
import net.handle.hdllib.DeleteHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.ErrorResponse;
import net.handle.hdllib.GenericRequest;
import net.handle.hdllib.GetSiteInfoResponse;
import net.handle.hdllib.HandleException;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.Interface;
import net.handle.hdllib.ListHandlesRequest;
import net.handle.hdllib.ListHandlesResponse;
import net.handle.hdllib.ModifyValueRequest;
import net.handle.hdllib.PublicKeyAuthenticationInfo;
import net.handle.hdllib.RemoveValueRequest;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.ResponseMessageCallback;
import net.handle.hdllib.SecretKeyAuthenticationInfo;
import net.handle.hdllib.ServerInfo;
import net.handle.hdllib.ServiceReferralResponse;
import net.handle.hdllib.SessionSetupInfo;
import net.handle.hdllib.SimpleConfiguration;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import net.handle.hdllib.ValueReference;

public final class HandleHarness {
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();
    private static final Base64.Encoder B64 = Base64.getEncoder();
    private static final Base64.Decoder B64D = Base64.getDecoder();
    private static final int DEFAULT_TIMEOUT_MS = 3000;

    /** The real stdout; System.out is pointed at stderr so library output cannot corrupt the protocol. */
    private static PrintStream protocolOut;

    /**
     * No root info, no bootstrap refresh from the network: every request here goes to an
     * explicitly given server. (The default FilesystemConfiguration would schedule a root
     * info update against the global Handle registry on the first send.)
     */
    static final class IsolatedConfiguration extends SimpleConfiguration {
        @Override
        public boolean isAutoUpdateRootInfo() {
            return false;
        }

        @Override
        public void setAutoUpdateRootInfo(boolean enabled) {
            // always off
        }
    }

    private static final IsolatedConfiguration CONFIG = new IsolatedConfiguration();

    /** Thrown for malformed harness requests (a test bug, not a server answer). */
    static final class BadRequest extends Exception {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message);
        }
    }

    public static void main(String[] args) throws Exception {
        protocolOut = new PrintStream(new FileOutputStream(FileDescriptor.out), false, "UTF-8");
        System.setOut(System.err);
        if (System.getProperty("net.handle.configDir") == null) {
            // HandleResolver's constructor builds the default FilesystemConfiguration, which
            // creates this directory; keep it away from $HOME/.handle.
            System.setProperty("net.handle.configDir", System.getProperty("java.io.tmpdir") + "/iip-handle-client-config");
        }

        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "harness-request");
            t.setDaemon(true);
            return t;
        });

        JsonObject ready = new JsonObject();
        ready.addProperty("ready", true);
        ready.addProperty("java", System.getProperty("java.version"));
        emit(ready);

        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.trim().isEmpty()) continue;
            final String requestLine = line;
            pool.execute(() -> emit(handleLine(requestLine)));
        }
        // stdin closed: let in-flight requests finish (they all have short timeouts), then exit.
        pool.shutdown();
        pool.awaitTermination(30, TimeUnit.SECONDS);
        protocolOut.flush();
        System.exit(0);
    }

    private static void emit(JsonObject obj) {
        String text = GSON.toJson(obj);
        synchronized (HandleHarness.class) {
            protocolOut.print(text);
            protocolOut.print('\n');
            protocolOut.flush();
        }
    }

    // ------------------------------------------------------------------------------------
    // Dispatch
    // ------------------------------------------------------------------------------------

    /** Collects every message the library hands to the callback while one request runs. */
    static final class Recorder implements ResponseMessageCallback {
        final List<AbstractResponse> messages = new ArrayList<>();
        final List<byte[]> handles = new ArrayList<>();

        @Override
        public synchronized void handleResponse(AbstractResponse message) {
            messages.add(message);
            if (message instanceof ListHandlesResponse && ((ListHandlesResponse) message).handles != null) {
                for (byte[] h : ((ListHandlesResponse) message).handles) handles.add(h);
            }
        }

        synchronized AbstractResponse lastUnsuccessful() {
            for (int i = messages.size() - 1; i >= 0; i--) {
                if (messages.get(i).responseCode != AbstractMessage.RC_SUCCESS) return messages.get(i);
            }
            return null;
        }
    }

    static JsonObject handleLine(String line) {
        JsonElement id = JsonNull.INSTANCE;
        Recorder recorder = new Recorder();
        try {
            JsonObject req;
            try {
                req = JsonParser.parseString(line).getAsJsonObject();
            } catch (Exception e) {
                throw new BadRequest("request is not a JSON object: " + e.getMessage());
            }
            if (req.has("id")) id = req.get("id");
            JsonObject res = dispatch(req, recorder);
            res.add("id", id);
            return res;
        } catch (HandleException e) {
            return failure(id, e, recorder);
        } catch (BadRequest e) {
            JsonObject res = new JsonObject();
            res.add("id", id);
            res.addProperty("ok", false);
            res.add("responseCode", JsonNull.INSTANCE);
            res.addProperty("message", "bad harness request: " + e.getMessage());
            res.addProperty("exception", "BadRequest: " + e.getMessage());
            return res;
        } catch (Throwable e) {
            // Anything else (library bug, NPE on odd input): report it, keep the JVM alive.
            JsonObject res = new JsonObject();
            res.add("id", id);
            res.addProperty("ok", false);
            AbstractResponse last = recorder.lastUnsuccessful();
            if (last != null) res.addProperty("responseCode", last.responseCode);
            else res.add("responseCode", JsonNull.INSTANCE);
            res.addProperty("message", describeChain(e));
            res.addProperty("exception", e.toString());
            return res;
        }
    }

    static JsonObject dispatch(JsonObject req, Recorder recorder) throws Exception {
        String op = str(req, "op", null);
        if (op == null) throw new BadRequest("missing \"op\"");
        switch (op) {
        case "ping": {
            JsonObject res = new JsonObject();
            res.addProperty("ok", true);
            return res;
        }
        case "genkey":
            return genkey(req);
        default:
            return send(req, buildRequest(op, req), recorder);
        }
    }

    static JsonObject genkey(JsonObject req) throws Exception {
        int bits = intOr(req, "bits", 2048);
        KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
        gen.initialize(bits);
        KeyPair pair = gen.generateKeyPair();
        JsonObject res = new JsonObject();
        res.addProperty("ok", true);
        res.addProperty("publicKey", B64.encodeToString(Util.getBytesFromPublicKey(pair.getPublic())));
        res.addProperty("privateKey", B64.encodeToString(Util.getBytesFromPrivateKey(pair.getPrivate())));
        return res;
    }

    // ------------------------------------------------------------------------------------
    // Requests
    // ------------------------------------------------------------------------------------

    static AbstractRequest buildRequest(String op, JsonObject req) throws Exception {
        AuthenticationInfo auth = authInfo(req);
        AbstractRequest r;
        switch (op) {
        case "resolve": {
            byte[][] types = null;
            if (req.has("types") && !req.get("types").isJsonNull()) {
                JsonArray arr = req.getAsJsonArray("types");
                types = new byte[arr.size()][];
                for (int i = 0; i < arr.size(); i++) types[i] = Util.encodeString(arr.get(i).getAsString());
            }
            int[] indexes = req.has("indexes") && !req.get("indexes").isJsonNull() ? ints(req.getAsJsonArray("indexes")) : null;
            ResolutionRequest rr = new ResolutionRequest(handle(req), types, indexes, auth);
            // Like the library's own tools: public values only, unless we can authenticate
            // (then the server may challenge and return admin-readable values too).
            rr.ignoreRestrictedValues = bool(req, "publicOnly", auth == null);
            r = rr;
            break;
        }
        case "create": {
            boolean mint = bool(req, "mintNewSuffix", false);
            r = new CreateHandleRequest(handle(req), values(req), auth, mint);
            r.overwriteWhenExists = bool(req, "overwrite", false);
            break;
        }
        case "add":
            r = new AddValueRequest(handle(req), values(req), auth);
            r.overwriteWhenExists = bool(req, "overwrite", false);
            break;
        case "modify":
            r = new ModifyValueRequest(handle(req), values(req), auth);
            break;
        case "remove":
            if (!req.has("indexes")) throw new BadRequest("remove needs \"indexes\"");
            r = new RemoveValueRequest(handle(req), ints(req.getAsJsonArray("indexes")), auth);
            break;
        case "delete":
            r = new DeleteHandleRequest(handle(req), auth);
            break;
        case "listHandles":
            // handle = the prefix handle, e.g. "0.NA/88.100.1" (as HandleResolver.listHandlesUnderPrefix).
            r = new ListHandlesRequest(handle(req), auth);
            break;
        case "siteInfo": {
            // As the library's tools (HomeNA, GenericBatch): handle "/" unless given.
            String h = str(req, "handle", null);
            r = new GenericRequest(h == null ? Common.BLANK_HANDLE : Util.encodeString(h), AbstractMessage.OC_GET_SITE_INFO, auth);
            break;
        }
        default:
            throw new BadRequest("unknown op \"" + op + "\"");
        }
        r.certify = bool(req, "certify", false);
        r.authoritative = bool(req, "authoritative", false);
        r.recursive = bool(req, "recursive", r.recursive);
        r.doNotRefer = bool(req, "doNotRefer", false);
        r.returnRequestDigest = bool(req, "requestDigest", r.returnRequestDigest);
        return r;
    }

    static AuthenticationInfo authInfo(JsonObject req) throws Exception {
        if (!req.has("auth") || req.get("auth").isJsonNull()) return null;
        JsonObject a = req.getAsJsonObject("auth");
        String kind = str(a, "kind", null);
        String h = str(a, "handle", null);
        if (h == null || !a.has("index")) throw new BadRequest("auth needs \"handle\" and \"index\"");
        byte[] idHandle = Util.encodeString(h);
        int idIndex = a.get("index").getAsInt();
        if ("secret".equals(kind)) {
            String secret = str(a, "secret", null);
            if (secret == null) throw new BadRequest("secret auth needs \"secret\"");
            return new SecretKeyAuthenticationInfo(idHandle, idIndex, secret.getBytes(StandardCharsets.UTF_8));
        }
        if ("pubkey".equals(kind)) {
            String priv = str(a, "privateKey", null);
            if (priv == null) throw new BadRequest("pubkey auth needs \"privateKey\" (base64, as genkey returns it)");
            return new PublicKeyAuthenticationInfo(idHandle, idIndex, Util.getPrivateKeyFromBytes(B64D.decode(priv), 0));
        }
        throw new BadRequest("auth.kind must be \"secret\" or \"pubkey\"");
    }

    // ------------------------------------------------------------------------------------
    // Sending: straight to one server, one transport
    // ------------------------------------------------------------------------------------

    static int transport(JsonObject req) throws BadRequest {
        String t = str(req, "transport", "tcp");
        switch (t) {
        case "tcp":
            return Interface.SP_HDL_TCP;
        case "udp":
            return Interface.SP_HDL_UDP;
        case "http":
            return Interface.SP_HDL_HTTP;
        default:
            throw new BadRequest("transport must be tcp, udp or http, got \"" + t + "\"");
        }
    }

    /**
     * A one-server site for the target: TCP and UDP on "port", HTTP on "httpPort". All
     * interfaces are declared admin+query so the test, not the harness, decides what goes
     * over which transport (a real server's site info usually declares UDP query-only).
     */
    static SiteInfo site(JsonObject req) throws Exception {
        if (!req.has("server") || !req.get("server").isJsonObject()) throw new BadRequest("missing \"server\"");
        JsonObject s = req.getAsJsonObject("server");
        String host = str(s, "host", "127.0.0.1");
        int port = intOr(s, "port", 2641);
        List<Interface> ifcs = new ArrayList<>();
        ifcs.add(new Interface(Interface.ST_ADMIN_AND_QUERY, Interface.SP_HDL_TCP, port));
        ifcs.add(new Interface(Interface.ST_ADMIN_AND_QUERY, Interface.SP_HDL_UDP, port));
        if (s.has("httpPort") && !s.get("httpPort").isJsonNull()) {
            ifcs.add(new Interface(Interface.ST_ADMIN_AND_QUERY, Interface.SP_HDL_HTTP, s.get("httpPort").getAsInt()));
        }

        ServerInfo server = new ServerInfo();
        server.serverId = 1;
        // 16 bytes; an IPv4 address sits in the last 4 with 12 zero bytes in front
        // (ServerInfo.isIPv4 tests for that, not for the ::ffff: mapped form).
        server.ipAddress = Util.fill16(InetAddress.getByName(host).getAddress());
        // Only needed to verify certified responses (certify:true); null otherwise.
        String pub = str(s, "publicKey", null);
        server.publicKey = pub == null ? null : B64D.decode(pub);
        server.interfaces = ifcs.toArray(new Interface[0]);

        SiteInfo site = new SiteInfo();
        site.serialNumber = intOr(s, "serialNumber", 1);
        site.isPrimary = true;
        site.hashOption = SiteInfo.HASH_TYPE_BY_ALL;
        site.servers = new ServerInfo[] { server };
        String version = str(s, "protocolVersion", null); // e.g. "2.10"; default 2.11 (Common.MAJOR/MINOR_VERSION)
        if (version != null) {
            String[] parts = version.split("\\.");
            if (parts.length != 2) throw new BadRequest("server.protocolVersion must look like \"2.10\"");
            site.majorProtocolVersion = Byte.parseByte(parts[0]);
            site.minorProtocolVersion = Byte.parseByte(parts[1]);
        }
        return site;
    }

    static HandleResolver resolver(JsonObject req, int protocol) {
        int timeoutMs = intOr(req, "timeoutMs", DEFAULT_TIMEOUT_MS);
        HandleResolver resolver = new HandleResolver();
        resolver.setConfiguration(CONFIG);
        resolver.setCache(null);
        resolver.setCertifiedCache(null);
        // sendRequestToSite(req, site, protocol, cb) already pins the protocol; this also pins
        // the library's internal sends (session setup) to it.
        resolver.setPreferredProtocols(new int[] { protocol });
        resolver.setTcpTimeout(timeoutMs); // connect and read timeout, TCP and HTTP
        // UDP: the request is (re)sent once per entry, waiting that long for the answer.
        resolver.setUdpRetryScheme(new int[] { Math.max(1, timeoutMs / 4), Math.max(1, timeoutMs / 4), Math.max(1, timeoutMs / 2) });
        resolver.setUseIPv6FastFallback(false);
        // By default HandleResolver sets up an OC_SESSION_SETUP session before any admin
        // request (and that setup must be certified with the server's key). Plain RFC 3652
        // challenge-response unless the test asks for sessions.
        resolver.setSessionTracker(bool(req, "session", false) ? new ClientSessionTracker(new SessionSetupInfo()) : null);
        resolver.traceMessages = bool(req, "trace", false);
        return resolver;
    }

    static JsonObject send(JsonObject req, AbstractRequest r, Recorder recorder) throws Exception {
        int protocol = transport(req);
        SiteInfo site = site(req);
        HandleResolver resolver = resolver(req, protocol);

        AbstractResponse resp = resolver.sendRequestToSite(r, site, protocol, recorder);
        if (resp == null) {
            throw new HandleException(HandleException.NO_ACCEPTABLE_INTERFACES,
                "no " + Interface.protocolName((byte) protocol) + " interface can carry " + ("op code " + r.opCode)
                    + (r.requiresConnection || r.streaming ? " (the library sends it over TCP/HTTP only)" : ""));
        }

        JsonObject res = new JsonObject();
        res.addProperty("ok", resp.responseCode == AbstractMessage.RC_SUCCESS);
        res.addProperty("responseCode", resp.responseCode);
        res.addProperty("responseVersion", resp.majorProtocolVersion + "." + resp.minorProtocolVersion);
        if (resp instanceof ServiceReferralResponse) {
            // A referral (302): the handle whose values say where to ask, and those values (HS_SITE / HS_SERV).
            ServiceReferralResponse ref = (ServiceReferralResponse) resp;
            if (ref.handle != null) res.addProperty("referralHandle", Util.decodeString(ref.handle));
            res.add("values", valuesJson(ref.getHandleValues()));
            res.addProperty("message", responseMessage(resp));
            return res;
        }
        if (resp.responseCode != AbstractMessage.RC_SUCCESS) {
            res.addProperty("message", responseMessage(resp));
            return res;
        }
        if (resp instanceof ResolutionResponse) {
            ResolutionResponse rr = (ResolutionResponse) resp;
            if (rr.handle != null) res.addProperty("handle", Util.decodeString(rr.handle));
            res.add("values", valuesJson(rr.getHandleValues()));
        } else if (resp instanceof CreateHandleResponse) {
            byte[] h = ((CreateHandleResponse) resp).handle;
            if (h != null && h.length > 0) res.addProperty("handle", Util.decodeString(h));
        } else if (resp instanceof ListHandlesResponse) {
            JsonArray handles = new JsonArray();
            synchronized (recorder) {
                for (byte[] h : recorder.handles) handles.add(Util.decodeString(h));
            }
            res.add("handles", handles);
        } else if (resp instanceof GetSiteInfoResponse) {
            JsonObject fields = siteJson(((GetSiteInfoResponse) resp).siteInfo);
            for (String key : fields.keySet()) res.add(key, fields.get(key));
        }
        return res;
    }

    static JsonObject failure(JsonElement id, HandleException e, Recorder recorder) {
        JsonObject res = new JsonObject();
        res.add("id", id);
        res.addProperty("ok", false);
        // The server's own answer, if the library saw one before giving up (a challenge
        // without auth info, an RC_ERROR, an error after the challenge answer...).
        AbstractResponse last = recorder.lastUnsuccessful();
        if (last != null) {
            res.addProperty("responseCode", last.responseCode);
            String serverMessage = responseMessage(last);
            if (serverMessage != null) res.addProperty("serverMessage", serverMessage);
        } else {
            res.add("responseCode", JsonNull.INSTANCE);
        }
        res.addProperty("message", describeChain(e));
        res.addProperty("exception", e.toString());
        res.addProperty("exceptionCode", e.getCode());
        res.addProperty("exceptionName", HandleException.getCodeStr(e.getCode()));
        return res;
    }

    static String responseMessage(AbstractResponse resp) {
        if (resp instanceof ErrorResponse) {
            byte[] m = ((ErrorResponse) resp).message;
            return m == null ? "" : Util.decodeString(m);
        }
        return AbstractMessage.getResponseCodeMessage(resp.responseCode);
    }

    static String describeChain(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage() != null ? e.getMessage() : e.toString()));
        Throwable seen = e;
        for (Throwable c = e.getCause(); c != null && c != seen; seen = c, c = c.getCause()) {
            sb.append(" <- ").append(c);
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------
    // JSON <-> Handle values
    // ------------------------------------------------------------------------------------

    /** AdminRecord.perms, in order (ADD_HANDLE = 0 ... LIST_HANDLES = 11). */
    static final String[] ADMIN_PERMS = { "addHandle", "deleteHandle", "addDerivedPrefix", "deleteDerivedPrefix", "modifyValue", "removeValue", "addValue", "modifyAdmin", "removeAdmin", "addAdmin", "readValue",
            "listHandles" };

    /** HS_ADMIN data from {"handle":..,"index":..,"permissions":{name:bool}?} (all permissions by default). */
    static byte[] adminData(JsonObject a) throws BadRequest {
        if (!a.has("handle") || !a.has("index")) throw new BadRequest("\"admin\" needs \"handle\" and \"index\"");
        AdminRecord admin = new AdminRecord();
        admin.adminId = Util.encodeString(a.get("handle").getAsString());
        admin.adminIdIndex = a.get("index").getAsInt();
        JsonObject perms = a.has("permissions") && a.get("permissions").isJsonObject() ? a.getAsJsonObject("permissions") : new JsonObject();
        for (int p = 0; p < ADMIN_PERMS.length; p++) admin.perms[p] = bool(perms, ADMIN_PERMS[p], true);
        return Encoder.encodeAdminRecord(admin);
    }

    static HandleValue[] values(JsonObject req) throws BadRequest {
        if (!req.has("values") || !req.get("values").isJsonArray()) throw new BadRequest("missing \"values\" array");
        JsonArray arr = req.getAsJsonArray("values");
        HandleValue[] out = new HandleValue[arr.size()];
        int now = (int) (System.currentTimeMillis() / 1000);
        for (int i = 0; i < arr.size(); i++) {
            JsonObject v = arr.get(i).getAsJsonObject();
            if (!v.has("index") || !v.has("type")) throw new BadRequest("a value needs \"index\" and \"type\"");
            byte[] data;
            if (v.has("data") && !v.get("data").isJsonNull()) data = B64D.decode(v.get("data").getAsString());
            else if (v.has("admin") && v.get("admin").isJsonObject()) data = adminData(v.getAsJsonObject("admin"));
            else if (v.has("text") && !v.get("text").isJsonNull()) data = v.get("text").getAsString().getBytes(StandardCharsets.UTF_8);
            else data = new byte[0];
            ValueReference[] refs = null;
            if (v.has("references") && v.get("references").isJsonArray()) {
                JsonArray ra = v.getAsJsonArray("references");
                refs = new ValueReference[ra.size()];
                for (int j = 0; j < ra.size(); j++) {
                    JsonObject ro = ra.get(j).getAsJsonObject();
                    refs[j] = new ValueReference(Util.encodeString(ro.get("handle").getAsString()), ro.get("index").getAsInt());
                }
            }
            out[i] = new HandleValue(v.get("index").getAsInt(), Util.encodeString(v.get("type").getAsString()), data, (byte) intOr(v, "ttlType", HandleValue.TTL_TYPE_RELATIVE), intOr(v, "ttl", 86400),
                intOr(v, "timestamp", now), refs, bool(v, "adminRead", true), bool(v, "adminWrite", true), bool(v, "publicRead", true), bool(v, "publicWrite", false));
        }
        return out;
    }

    static JsonArray valuesJson(HandleValue[] values) {
        JsonArray arr = new JsonArray();
        if (values == null) return arr;
        for (HandleValue v : values) {
            JsonObject o = new JsonObject();
            o.addProperty("index", v.getIndex());
            o.addProperty("type", Util.decodeString(v.getType()));
            byte[] data = v.getData() == null ? new byte[0] : v.getData();
            o.addProperty("data", B64.encodeToString(data));
            o.addProperty("text", new String(data, StandardCharsets.UTF_8));
            o.addProperty("ttlType", v.getTTLType());
            o.addProperty("ttl", v.getTTL());
            o.addProperty("timestamp", v.getTimestamp());
            o.addProperty("adminRead", v.getAdminCanRead());
            o.addProperty("adminWrite", v.getAdminCanWrite());
            o.addProperty("publicRead", v.getAnyoneCanRead());
            o.addProperty("publicWrite", v.getAnyoneCanWrite());
            JsonArray refs = new JsonArray();
            if (v.getReferences() != null) {
                for (ValueReference ref : v.getReferences()) {
                    JsonObject ro = new JsonObject();
                    ro.addProperty("handle", Util.decodeString(ref.handle));
                    ro.addProperty("index", ref.index);
                    refs.add(ro);
                }
            }
            o.add("references", refs);
            if (Util.equals(v.getType(), Common.SITE_INFO_TYPE)) {
                try {
                    SiteInfo site = new SiteInfo();
                    Encoder.decodeSiteInfoRecord(data, 0, site);
                    o.add("site", siteJson(site));
                } catch (Exception e) {
                    o.addProperty("siteError", String.valueOf(e));
                }
            }
            if (Util.equals(v.getType(), Common.ADMIN_TYPE)) {
                try {
                    AdminRecord admin = Encoder.decodeAdminRecord(data, 0);
                    o.addProperty("adminHandle", Util.decodeString(admin.adminId));
                    o.addProperty("adminIndex", admin.adminIdIndex);
                    JsonObject perms = new JsonObject();
                    for (int p = 0; p < ADMIN_PERMS.length && p < admin.perms.length; p++) perms.addProperty(ADMIN_PERMS[p], admin.perms[p]);
                    o.add("adminPermissions", perms);
                } catch (Exception e) {
                    o.addProperty("adminError", String.valueOf(e));
                }
            }
            arr.add(o);
        }
        return arr;
    }

    static JsonObject siteJson(SiteInfo site) {
        JsonObject o = new JsonObject();
        if (site == null) return o;
        o.addProperty("dataFormatVersion", site.dataFormatVersion);
        o.addProperty("serialNumber", site.serialNumber);
        o.addProperty("version", site.majorProtocolVersion + "." + site.minorProtocolVersion);
        o.addProperty("isPrimary", site.isPrimary);
        o.addProperty("multiPrimary", site.multiPrimary);
        o.addProperty("hashOption", site.hashOption);
        if (site.hashFilter != null) o.addProperty("hashFilter", B64.encodeToString(site.hashFilter));
        JsonArray attrs = new JsonArray();
        if (site.attributes != null) {
            for (Attribute a : site.attributes) {
                JsonObject ao = new JsonObject();
                ao.addProperty("name", a.name == null ? "" : Util.decodeString(a.name));
                ao.addProperty("value", a.value == null ? "" : Util.decodeString(a.value));
                attrs.add(ao);
            }
        }
        o.add("attributes", attrs);
        JsonArray servers = new JsonArray();
        if (site.servers != null) {
            for (ServerInfo s : site.servers) {
                JsonObject so = new JsonObject();
                so.addProperty("serverId", s.serverId);
                so.addProperty("address", s.getAddressString());
                if (s.ipAddress != null) so.addProperty("addressBytes", B64.encodeToString(s.ipAddress));
                if (s.publicKey != null) so.addProperty("publicKey", B64.encodeToString(s.publicKey));
                JsonArray ifcs = new JsonArray();
                if (s.interfaces != null) {
                    for (Interface i : s.interfaces) {
                        if (i == null) continue;
                        JsonObject io = new JsonObject();
                        io.addProperty("protocol", Interface.protocolName(i.protocol)); // UDP, TCP, HTTP, HTTPS
                        io.addProperty("port", i.port);
                        io.addProperty("type", Interface.typeName(i.type)); // adm, qry, adm+qry, out-of-service
                        io.addProperty("protocolCode", i.protocol);
                        io.addProperty("typeCode", i.type);
                        ifcs.add(io);
                    }
                }
                so.add("interfaces", ifcs);
                servers.add(so);
            }
        }
        o.add("servers", servers);
        return o;
    }

    // ------------------------------------------------------------------------------------
    // Small JSON helpers
    // ------------------------------------------------------------------------------------

    static byte[] handle(JsonObject req) throws BadRequest {
        String h = str(req, "handle", null);
        if (h == null) throw new BadRequest("missing \"handle\"");
        return Util.encodeString(h);
    }

    static String str(JsonObject o, String key, String dflt) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : dflt;
    }

    static int intOr(JsonObject o, String key, int dflt) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsInt() : dflt;
    }

    static boolean bool(JsonObject o, String key, boolean dflt) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsBoolean() : dflt;
    }

    static int[] ints(JsonArray arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).getAsInt();
        return out;
    }
}
