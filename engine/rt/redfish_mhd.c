/* SPDX-License-Identifier: MIT */
/*
 * The Redfish face (fwpush/redfish.h), the module fwpush-redfish.so: libmicrohttpd serves
 * HTTPS (GnuTLS) with a thread per connection; json-c writes and reads the bodies; the
 * multipart parser is libmicrohttpd's post processor. The BMC is reached only through
 * struct fwp_redfish_host (its door, bmc/door.h): an upload streams into the inactive bank as
 * it arrives, hashed on the way, and is finished (signature, sync, A/B switch) by a worker
 * thread while the client watches a task. Resources follow DMTF DSP0268 as bmcweb serves them
 * (update_service.hpp, task.hpp); everything the BMC does not know is 404.
 */
#include <arpa/inet.h>
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <json-c/json.h>
#include <microhttpd.h>

#include "rt/redfish_module.h"
#include "transport/module.h"

/* The BMC image's GUID (SoftwareId): made once for fwpush, a name-based UUID. */
#define FWP_REDFISH_SOFTWARE_ID	"2f0c5b1e-8a3d-5e61-9b7c-66777075736b"

#define MAX_USERS	16
#define MAX_SESSIONS	32
#define MAX_TASKS	32
#define MAX_FAILS	64
#define SESSION_IDLE_S	1800
#define SMALL_BODY	(64u << 10)	/* JSON bodies and UpdateParameters */
#define MULTIPART_SLACK	(64u << 10)	/* a multipart body's parts around the image */

enum task_state { T_NEW, T_RUNNING, T_COMPLETED, T_EXCEPTION };

struct task {
	unsigned id;			/* 0: free */
	enum task_state state;
	bool window;			/* a push through the window */
	uint64_t window_session;
	uint64_t total;			/* bytes expected (multipart: an upper bound) */
	int percent;
	time_t start, end;
	char what[32];			/* "upload", "SimpleUpdate", "window push" */
	char msgid[64], msg[320], severity[16];
};

struct user {
	char name[64];
	char *hash;
};

struct session {
	unsigned id;			/* 0: free */
	char token[65];
	char user[64];
	time_t last;
};

struct fail {
	char addr[INET6_ADDRSTRLEN];
	unsigned count;
	uint64_t until_ms;
};

struct srv {
	struct fwp_redfish_opts o;
	struct fwp_redfish_host h;
	struct MHD_Daemon *d;
	char *cert, *key;
	struct user users[MAX_USERS];
	int n_users;
	pthread_mutex_t lock;		/* everything below */
	struct session sessions[MAX_SESSIONS];
	unsigned next_session;
	struct task tasks[MAX_TASKS];
	unsigned next_task;
	struct fail fails[MAX_FAILS];
	uint64_t seen_window;		/* window sessions already made tasks */
	unsigned window_task;		/* the window push in progress, 0: none */
	unsigned door_task;		/* the door's update in progress, 0: none */
	pthread_t poller;
	bool poller_running, stopping;
	pthread_cond_t cond;
	pthread_t worker;		/* finishes an upload, or runs a SimpleUpdate */
	bool worker_running;
};

enum req_kind { R_NONE, R_RAW, R_MULTIPART, R_JSON, R_DRAIN };

/* A refused POST whose body is at most this is read (and dropped) before the answer. */
#define DRAIN_MAX	(1u << 20)

struct req {
	enum req_kind kind;
	const char *route;		/* the route's name, for the JSON POSTs */
	uint64_t length;		/* Content-Length */
	uint64_t got;			/* image bytes written */
	bool door;			/* this request holds the door */
	unsigned task;
	int err_code;			/* a failure seen while receiving: answered at the end */
	const char *err_id;
	unsigned err_retry;		/* its Retry-After */
	char err_msg[200];
	struct MHD_PostProcessor *pp;
	bool file_seen;
	char *body;			/* JSON body, or UpdateParameters */
	size_t body_len;
	unsigned char sig[64];
	bool have_sig;
	/* UpdateFile sent with Content-Transfer-Encoding: base64 (Ansible's uri does): decoded
	 * as it streams, up to three bytes of a quantum carried between calls. */
	unsigned b64_bits, b64_n;
	bool b64_end;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void hex128(const struct fwp_hash128 *h, char out[33])
{
	snprintf(out, 33, "%016" PRIx64 "%016" PRIx64, h->hi, h->lo);
}

/* JSON helpers */

static void js(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void ji(json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void jb(json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static json_object *jlink(const char *uri)
{
	json_object *o = json_object_new_object();

	js(o, "@odata.id", uri);
	return o;
}

static json_object *jres(const char *type, const char *id, const char *name, const char *uri)
{
	json_object *o = json_object_new_object();

	js(o, "@odata.type", type);
	js(o, "@odata.id", uri);
	js(o, "Id", id);
	js(o, "Name", name);
	return o;
}

static json_object *jstatus(const char *state, const char *health)
{
	json_object *o = json_object_new_object();

	js(o, "State", state);
	js(o, "Health", health);
	return o;
}

static json_object *jcollection(const char *type, const char *name, const char *uri,
				const char *const *members, int n)
{
	json_object *o = json_object_new_object(), *m = json_object_new_array();
	int i;

	js(o, "@odata.type", type);
	js(o, "@odata.id", uri);
	js(o, "Name", name);
	for (i = 0; i < n; i++)
		json_object_array_add(m, jlink(members[i]));
	json_object_object_add(o, "Members", m);
	ji(o, "Members@odata.count", n);
	return o;
}

/* Responses */

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned code, json_object *o,
				 const char *location, unsigned retry_after, const char *token)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(s), (void *)s,
								  MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	char num[16];

	json_object_put(o);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(r, "OData-Version", "4.0");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (location)
		MHD_add_response_header(r, "Location", location);
	if (retry_after) {
		snprintf(num, sizeof(num), "%u", retry_after);
		MHD_add_response_header(r, "Retry-After", num);
	}
	if (token)
		MHD_add_response_header(r, "X-Auth-Token", token);
	if (code == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"fwpush BMC\"");
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * The request whose error answers are held back until its (small) body is read: a client that
 * sends a body without Expect: 100-continue and is answered and cut off before it finished
 * sending sees a reset connection, not the answer.
 */
static _Thread_local struct req *defer_to;

/* A Redfish error body (DSP0266 9.6): one message from the Base registry. */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned code, const char *id,
				  const char *msg, unsigned retry_after)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	json_object *info = json_object_new_array(), *m = json_object_new_object();
	char full[96];

	if (defer_to) {
		defer_to->kind = R_DRAIN;
		defer_to->err_code = (int)code;
		defer_to->err_id = id;
		defer_to->err_retry = retry_after;
		snprintf(defer_to->err_msg, sizeof(defer_to->err_msg), "%s", msg);
		json_object_put(o);
		json_object_put(e);
		json_object_put(info);
		json_object_put(m);
		return MHD_YES;
	}
	snprintf(full, sizeof(full), "Base.1.16.0.%s", id);
	js(m, "@odata.type", "#Message.v1_1_1.Message");
	js(m, "MessageId", full);
	js(m, "Message", msg);
	js(m, "Severity", code >= 500 ? "Critical" : "Warning");
	js(m, "Resolution", code == 503 ? "Retry the operation after Retry-After seconds." :
	   code == 401 ? "Log in with valid credentials." : "Correct the request and resubmit.");
	json_object_array_add(info, m);
	js(e, "code", full);
	js(e, "message", msg);
	json_object_object_add(e, "@Message.ExtendedInfo", info);
	json_object_object_add(o, "error", e);
	return send_json(c, code, o, NULL, retry_after, NULL);
}

/* Tasks */

static const char *state_name(enum task_state s)
{
	static const char *const names[] = { "New", "Running", "Completed", "Exception" };

	return names[s];
}

static struct task *task_get(struct srv *s, unsigned id)
{
	int i;

	for (i = 0; id && i < MAX_TASKS; i++) {
		if (s->tasks[i].id == id)
			return &s->tasks[i];
	}
	return NULL;
}

/* A new task, replacing the oldest finished one when the table is full. Under the lock. */
static struct task *task_new(struct srv *s, const char *what, uint64_t total)
{
	struct task *t = NULL;
	int i;

	for (i = 0; i < MAX_TASKS && !t; i++) {
		if (!s->tasks[i].id)
			t = &s->tasks[i];
	}
	for (i = 0; i < MAX_TASKS && !t; i++) {
		if (s->tasks[i].state >= T_COMPLETED &&
		    (!t || s->tasks[i].id < t->id))
			t = &s->tasks[i];
	}
	if (!t)
		t = &s->tasks[0];	/* cannot happen: one update at a time */
	memset(t, 0, sizeof(*t));
	t->id = ++s->next_task;
	t->state = T_RUNNING;
	t->total = total;
	t->start = time(NULL);
	snprintf(t->what, sizeof(t->what), "%s", what);
	snprintf(t->msgid, sizeof(t->msgid), "TaskEvent.1.0.TaskStarted");
	snprintf(t->msg, sizeof(t->msg), "The task with Id '%u' has started.", t->id);
	snprintf(t->severity, sizeof(t->severity), "OK");
	return t;
}

/* Ends a task: Update.1.x messages for the update's outcome. Under the lock. */
static void task_end(struct task *t, bool ok, const char *msgid, const char *msg)
{
	t->state = ok ? T_COMPLETED : T_EXCEPTION;
	if (ok)
		t->percent = 100;
	t->end = time(NULL);
	snprintf(t->msgid, sizeof(t->msgid), "%s", msgid);
	snprintf(t->msg, sizeof(t->msg), "%s", msg);
	snprintf(t->severity, sizeof(t->severity), ok ? "OK" : "Critical");
}

/* Follows the window and the door: window pushes become tasks; percentages move. Locked. */
static void refresh(struct srv *s)
{
	struct fwp_door_status st;
	struct task *t;
	char msg[128];

	s->h.status(s->h.bmc, &st);
	if (st.window_sessions > s->seen_window) {
		/* A window session we have not seen: close the previous one first. */
		t = task_get(s, s->window_task);
		if (t && t->state == T_RUNNING)
			task_end(t, false, "Update.1.0.ApplyFailed", "Superseded by a new push.");
		t = task_new(s, "window push", st.owner == FWP_DOOR_WINDOW ? st.size : 0);
		t->window = true;
		t->window_session = st.window_sessions;
		s->window_task = t->id;
		s->seen_window = st.window_sessions;
	}
	t = task_get(s, s->window_task);
	if (t && t->state == T_RUNNING) {
		if (st.owner == FWP_DOOR_WINDOW && st.size) {
			t->total = st.size;
			t->percent = (int)(st.received * 100 / st.size);
			if (t->percent > 99)
				t->percent = 99;	/* 100 once activated */
		} else if (st.window_done) {
			snprintf(msg, sizeof(msg), "The window push ended: %s.",
				 st.window_status ? "failed" : "activated");
			task_end(t, !st.window_status, st.window_status ? "Update.1.0.ApplyFailed"
				 : "Update.1.0.UpdateSuccessful", msg);
			if (!st.window_status)
				snprintf(t->msg, sizeof(t->msg),
					 "Device 'BMC' successfully updated through the window.");
		}
	}
	t = task_get(s, s->door_task);
	if (t && t->state == T_RUNNING && st.owner == FWP_DOOR_DOOR && t->total) {
		t->percent = (int)(st.received * 100 / t->total);
		if (t->percent > 99)
			t->percent = 99;
	}
}

static void *poller_main(void *arg)
{
	struct srv *s = arg;
	struct timespec ts;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		refresh(s);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static json_object *task_json(const struct task *t)
{
	char uri[96], id[16], ts[32];
	json_object *o, *msgs = json_object_new_array(), *m = json_object_new_object();
	json_object *oem = json_object_new_object(), *fw = json_object_new_object();
	struct tm tm;

	snprintf(id, sizeof(id), "%u", t->id);
	snprintf(uri, sizeof(uri), "/redfish/v1/TaskService/Tasks/%u", t->id);
	o = jres("#Task.v1_4_3.Task", id, "Task", uri);
	js(o, "TaskState", state_name(t->state));
	js(o, "TaskStatus", t->state == T_EXCEPTION ? "Critical" : "OK");
	ji(o, "PercentComplete", t->percent);
	gmtime_r(&t->start, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	js(o, "StartTime", ts);
	if (t->state >= T_COMPLETED) {
		gmtime_r(&t->end, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
		js(o, "EndTime", ts);
	}
	snprintf(uri, sizeof(uri), "/redfish/v1/TaskService/TaskMonitors/%u", t->id);
	js(o, "TaskMonitor", uri);
	js(m, "@odata.type", "#Message.v1_1_1.Message");
	js(m, "MessageId", t->msgid);
	js(m, "Message", t->msg);
	js(m, "Severity", t->severity);
	json_object_array_add(msgs, m);
	json_object_object_add(o, "Messages", msgs);
	js(fw, "Kind", t->what);
	ji(fw, "Bytes", (int64_t)t->total);
	json_object_object_add(oem, "Fwpush", fw);
	json_object_object_add(o, "Oem", oem);
	return o;
}

/* Auth */

static void peer(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	out[0] = 0;
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
			  INET6_ADDRSTRLEN);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  INET6_ADDRSTRLEN);
}

/* The failure record of addr (made if missing). Under the lock. */
static struct fail *fail_of(struct srv *s, const char *addr)
{
	struct fail *f = NULL;
	int i;

	for (i = 0; i < MAX_FAILS; i++) {
		if (!strcmp(s->fails[i].addr, addr))
			return &s->fails[i];
		if (!f || s->fails[i].count < f->count)
			f = &s->fails[i];
	}
	memset(f, 0, sizeof(*f));
	snprintf(f->addr, sizeof(f->addr), "%s", addr);
	return f;
}

static bool locked_out(struct srv *s, const char *addr)
{
	struct fail *f;
	bool locked;

	pthread_mutex_lock(&s->lock);
	f = fail_of(s, addr);
	locked = f->until_ms && now_ms() < f->until_ms;
	if (f->until_ms && !locked) {
		f->until_ms = 0;
		f->count = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return locked;
}

/* Counts a failed login; from lockout_failures on, the address is locked out. */
static void login_failed(struct srv *s, const char *addr)
{
	struct fail *f;

	pthread_mutex_lock(&s->lock);
	f = fail_of(s, addr);
	if (++f->count >= s->o.lockout_failures)
		f->until_ms = now_ms() + s->o.lockout_ms;
	pthread_mutex_unlock(&s->lock);
	usleep(200 * 1000);	/* every wrong guess costs the guesser */
}

static void login_ok(struct srv *s, const char *addr)
{
	pthread_mutex_lock(&s->lock);
	fail_of(s, addr)->count = 0;
	pthread_mutex_unlock(&s->lock);
}

/* Constant time for equal lengths. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

static bool check_password(struct srv *s, const char *user, const char *pass)
{
	struct crypt_data *cd;
	const char *h;
	bool ok = false;
	int i;

	cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	for (i = 0; i < s->n_users; i++) {
		if (strcmp(s->users[i].name, user))
			continue;
		/*
		 * crypt_rn (libxcrypt): like crypt_r, NULL on failure; and not the name the
		 * sanitizers intercept, whose interceptor has no crypt_r to call in a libcrypt
		 * first loaded with this module.
		 */
		h = crypt_rn(pass, s->users[i].hash, cd, (int)sizeof(*cd));
		ok = h && h[0] != '*' && same(h, s->users[i].hash);
	}
	free(cd);
	return ok;
}

/* Basic credentials: 1 if well formed (user, pass filled), 0 if not Basic at all, -1 bad. */
static int basic(const char *hdr, char *user, size_t ulen, char *pass, size_t plen)
{
	gnutls_datum_t in, out = { NULL, 0 };
	char *colon;
	int ret = -1;

	if (strncasecmp(hdr, "Basic ", 6))
		return 0;
	in.data = (unsigned char *)(uintptr_t)(hdr + 6);
	in.size = (unsigned)strlen(hdr + 6);
	if (gnutls_base64_decode2(&in, &out) < 0)
		return -1;
	colon = memchr(out.data, ':', out.size);
	if (colon && memchr(out.data, 0, out.size) == NULL &&
	    (size_t)(colon - (char *)out.data) < ulen &&
	    out.size - (size_t)(colon - (char *)out.data) <= plen) {
		memcpy(user, out.data, (size_t)(colon - (char *)out.data));
		user[colon - (char *)out.data] = 0;
		memcpy(pass, colon + 1, out.size - (size_t)(colon - (char *)out.data) - 1);
		pass[out.size - (size_t)(colon - (char *)out.data) - 1] = 0;
		ret = 1;
	}
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	return ret;
}

/* 0: authorized; else the response was queued (401). */
static int authorize(struct srv *s, struct MHD_Connection *c, enum MHD_Result *res)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Auth-Token");
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	char addr[INET6_ADDRSTRLEN], user[64], pass[256];
	bool ok = false;
	int i, b;

	peer(c, addr);
	if (locked_out(s, addr)) {
		*res = send_error(c, 401, "NoValidSession",
				  "Too many failed logins from this address: try again later.", 0);
		return -1;
	}
	if (tok) {
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < MAX_SESSIONS && !ok; i++) {
			if (s->sessions[i].id && time(NULL) - s->sessions[i].last > SESSION_IDLE_S)
				s->sessions[i].id = 0;	/* expired */
			if (s->sessions[i].id && same(s->sessions[i].token, tok)) {
				s->sessions[i].last = time(NULL);
				ok = true;
			}
		}
		pthread_mutex_unlock(&s->lock);
	} else if (auth) {
		b = basic(auth, user, sizeof(user), pass, sizeof(pass));
		ok = b == 1 && check_password(s, user, pass);
		memset(pass, 0, sizeof(pass));
	} else {
		*res = send_error(c, 401, "NoValidSession",
				  "There is no valid session established with the implementation.",
				  0);
		return -1;
	}
	if (ok) {
		login_ok(s, addr);
		return 0;
	}
	login_failed(s, addr);
	*res = send_error(c, 401, "NoValidSession", "Wrong credentials or session token.", 0);
	return -1;
}

/* Resources */

static json_object *service_root(void)
{
	json_object *o = jres("#ServiceRoot.v1_15_0.ServiceRoot", "RootService",
			      "Root Service", "/redfish/v1");
	json_object *links = json_object_new_object();

	js(o, "RedfishVersion", "1.17.0");
	js(o, "UUID", "8d5e1c1a-6f77-4a8e-9b0e-66777075736b");
	json_object_object_add(o, "Systems", jlink("/redfish/v1/Systems"));
	json_object_object_add(o, "Managers", jlink("/redfish/v1/Managers"));
	json_object_object_add(o, "UpdateService", jlink("/redfish/v1/UpdateService"));
	json_object_object_add(o, "TaskService", jlink("/redfish/v1/TaskService"));
	json_object_object_add(o, "SessionService", jlink("/redfish/v1/SessionService"));
	json_object_object_add(links, "Sessions", jlink("/redfish/v1/SessionService/Sessions"));
	json_object_object_add(o, "Links", links);
	return o;
}

static json_object *manager(struct srv *s)
{
	json_object *o = jres("#Manager.v1_14_0.Manager", "bmc", "fwpush emulated BMC",
			      "/redfish/v1/Managers/bmc");
	json_object *links = json_object_new_object(), *arr = json_object_new_array();

	js(o, "ManagerType", "BMC");
	js(o, "FirmwareVersion", s->h.version);
	json_object_object_add(o, "Status", jstatus("Enabled", "OK"));
	js(o, "PowerState", "On");
	json_object_array_add(arr, jlink("/redfish/v1/UpdateService/FirmwareInventory/bmc_active"));
	json_object_object_add(links, "ActiveSoftwareImage",
			       jlink("/redfish/v1/UpdateService/FirmwareInventory/bmc_active"));
	json_object_object_add(links, "SoftwareImages", arr);
	json_object_object_add(o, "Links", links);
	return o;
}

static json_object *update_service(struct srv *s)
{
	json_object *o = jres("#UpdateService.v1_11_1.UpdateService", "UpdateService",
			      "Update Service", "/redfish/v1/UpdateService");
	json_object *act = json_object_new_object(), *su = json_object_new_object();
	json_object *protos = json_object_new_array();
	struct fwp_door_status st;

	s->h.status(s->h.bmc, &st);
	jb(o, "ServiceEnabled", true);
	json_object_object_add(o, "Status", jstatus("Enabled", "OK"));
	js(o, "HttpPushUri", "/redfish/v1/UpdateService/update");
	js(o, "MultipartHttpPushUri", "/redfish/v1/UpdateService/update-multipart");
	ji(o, "MaxImageSizeBytes", (int64_t)st.capacity);
	json_object_object_add(o, "FirmwareInventory",
			       jlink("/redfish/v1/UpdateService/FirmwareInventory"));
	js(su, "target", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate");
	json_object_array_add(protos, json_object_new_string("HTTP"));
	json_object_array_add(protos, json_object_new_string("HTTPS"));
	json_object_object_add(su, "TransferProtocol@Redfish.AllowableValues", protos);
	json_object_object_add(act, "#UpdateService.SimpleUpdate", su);
	json_object_object_add(o, "Actions", act);
	return o;
}

static json_object *inventory_item(struct srv *s, bool active)
{
	const char *id = active ? "bmc_active" : "bmc_inactive";
	char uri[96], hex[33], ver[48];
	struct fwp_door_status st;
	const struct fwp_door_bank *b;
	json_object *o, *oem = json_object_new_object(), *fw = json_object_new_object();

	s->h.status(s->h.bmc, &st);
	b = active ? &st.active : &st.inactive;
	snprintf(uri, sizeof(uri), "/redfish/v1/UpdateService/FirmwareInventory/%s", id);
	o = jres("#SoftwareInventory.v1_10_0.SoftwareInventory", id,
		 active ? "BMC image (active bank)" : "BMC image (inactive bank)", uri);
	if (b->known) {
		hex128(&b->hash, hex);
		/*
		 * A PLDM firmware package's PackageVersionString (bmc/door.h); an image that
		 * carries no version of its own is named by its hash, shortened.
		 */
		snprintf(ver, sizeof(ver), "xxh3-%.16s", hex);
		js(o, "Version", b->version[0] ? b->version : ver);
		js(fw, "XXH3_128", hex);
		ji(fw, "Size", (int64_t)b->size);
	} else {
		js(o, "Version", "");
	}
	/*
	 * A GUID as SoftwareId: fwupd takes it as the device's GUID as it is (a firmware
	 * package's metadata names it). The active bank is the BMC image an update replaces;
	 * the inactive one is the previous image, kept for the A/B switch, not a target.
	 */
	js(o, "SoftwareId", FWP_REDFISH_SOFTWARE_ID);
	js(o, "Manufacturer", "fwpush");
	jb(o, "Updateable", active);
	json_object_object_add(o, "Status", jstatus(b->known ? "Enabled" : "Absent",
		b->known || active ? "OK" : "OK"));
	js(fw, "Bank", active ? "active" : "inactive");
	json_object_object_add(oem, "Fwpush", fw);
	json_object_object_add(o, "Oem", oem);
	return o;
}

static json_object *session_json(const struct session *se)
{
	char uri[96], id[16];
	json_object *o;

	snprintf(id, sizeof(id), "%u", se->id);
	snprintf(uri, sizeof(uri), "/redfish/v1/SessionService/Sessions/%u", se->id);
	o = jres("#Session.v1_6_0.Session", id, "User Session", uri);
	js(o, "UserName", se->user);
	return o;
}

/* Uploads */

/* A hex signature (128 digits) into sig; false if malformed. */
static bool parse_sig(const char *hex, unsigned char sig[64])
{
	unsigned v;
	int i;

	if (!hex || strlen(hex) != 128)
		return false;
	for (i = 0; i < 64; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		sig[i] = (unsigned char)v;
	}
	return true;
}

/* Oem.Fwpush.Signature of a JSON object (UpdateParameters, SimpleUpdate). */
static bool json_sig(json_object *o, unsigned char sig[64], bool *bad)
{
	json_object *oem, *fw, *sg;

	*bad = false;
	if (!json_object_object_get_ex(o, "Oem", &oem) ||
	    !json_object_object_get_ex(oem, "Fwpush", &fw) ||
	    !json_object_object_get_ex(fw, "Signature", &sg))
		return false;
	if (!parse_sig(json_object_get_string(sg), sig)) {
		*bad = true;
		return false;
	}
	return true;
}

static void req_fail(struct req *r, int code, const char *id, const char *msg)
{
	if (r->err_code)
		return;
	r->err_code = code;
	r->err_id = id;
	snprintf(r->err_msg, sizeof(r->err_msg), "%s", msg);
}

static void req_write(struct srv *s, struct req *r, const void *p, size_t n)
{
	int ret;

	if (r->err_code || !n)
		return;
	ret = s->h.write(s->h.bmc, p, n);
	if (ret == -EFBIG)
		req_fail(r, 413, "GeneralError", "The image is larger than MaxImageSizeBytes.");
	else if (ret)
		req_fail(r, 500, "GeneralError", "The flash failed while storing the image.");
	else
		r->got += n;
}

/* The value of one base64 digit, -1 for whitespace, -2 for '=', -3 for anything else. */
static int b64_digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
		return -1;
	return c == '=' ? -2 : -3;
}

/* Decodes size bytes of a base64 part into the image, a bounded block at a time. */
static void b64_write(struct srv *s, struct req *r, const char *data, size_t size)
{
	unsigned char out[3072];
	size_t i, n = 0;
	int d;

	for (i = 0; i < size && !r->err_code; i++) {
		d = b64_digit((unsigned char)data[i]);
		if (d == -1)
			continue;
		if (d == -3 || (d >= 0 && r->b64_end)) {
			req_fail(r, 400, "GeneralError", "UpdateFile: malformed base64.");
			return;
		}
		if (d == -2) {
			r->b64_end = true;	/* padding: the bits left over are not data */
			continue;
		}
		r->b64_bits = (r->b64_bits << 6) | (unsigned)d;
		if (++r->b64_n == 4) {
			out[n++] = (unsigned char)(r->b64_bits >> 16);
			out[n++] = (unsigned char)(r->b64_bits >> 8);
			out[n++] = (unsigned char)r->b64_bits;
			r->b64_bits = 0;
			r->b64_n = 0;
		}
		if (n == sizeof(out)) {
			req_write(s, r, out, n);
			n = 0;
		}
	}
	if (r->b64_end && r->b64_n) {	/* the last quantum, cut short by its padding */
		if (r->b64_n >= 2)
			out[n++] = (unsigned char)(r->b64_bits >> (r->b64_n == 2 ? 4 : 10));
		if (r->b64_n == 3)
			out[n++] = (unsigned char)(r->b64_bits >> 2);
		r->b64_n = 0;
	}
	req_write(s, r, out, n);
}

static enum MHD_Result post_iter(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *filename, const char *content_type,
				 const char *transfer_encoding, const char *data, uint64_t off,
				 size_t size)
{
	struct req *r = cls;
	struct srv *s = (struct srv *)r->route;	/* set for multipart: see on_request */

	(void)kind;
	(void)content_type;
	(void)off;
	if (!strcmp(key, "UpdateFile") || filename) {
		r->file_seen = true;
		if (transfer_encoding && !strcasecmp(transfer_encoding, "base64"))
			b64_write(s, r, data, size);
		else if (transfer_encoding && strcasecmp(transfer_encoding, "binary") &&
			 strcasecmp(transfer_encoding, "8bit") && strcasecmp(transfer_encoding, "7bit"))
			req_fail(r, 415, "GeneralError", "UpdateFile: unsupported "
				 "Content-Transfer-Encoding (binary or base64).");
		else
			req_write(s, r, data, size);
		return r->err_code ? MHD_NO : MHD_YES;
	}
	if (!strcmp(key, "UpdateParameters")) {
		if (r->body_len + size > SMALL_BODY) {
			req_fail(r, 400, "GeneralError", "UpdateParameters is too large.");
			return MHD_NO;
		}
		memcpy(r->body + r->body_len, data, size);
		r->body_len += size;
		r->body[r->body_len] = 0;
	}
	return MHD_YES;
}

struct work {
	struct srv *s;
	unsigned task;
	uint64_t size;		/* 0: what the door was opened with; else the real size */
	bool have_sig;
	unsigned char sig[64];
	char *url;		/* SimpleUpdate */
};

static int fetch_sink(void *arg, const void *p, size_t n)
{
	struct work *w = arg;
	int ret = w->s->h.write(w->s->h.bmc, p, n);

	if (!ret)
		w->size += n;
	return ret ? -ENOSPC : 0;
}

/* The worker: (SimpleUpdate: fetches the image into the door, then) finishes the update. */
static void *worker_main(void *arg)
{
	struct work *w = arg;
	struct srv *s = w->s;
	struct fwp_hash128 h;
	char detail[256] = "", msg[300];
	const char *id;
	bool fetch_failed = false;
	struct task *t;
	int ret = 0;

	if (w->url) {
		w->size = 0;
		ret = s->h.fetch(w->url, fetch_sink, w, detail, sizeof(detail));
		if (!ret && !w->size)
			ret = -ENODATA;
		if (ret) {
			s->h.abort(s->h.bmc);
			fetch_failed = true;
		}
	}
	if (!ret)
		ret = s->h.finish(s->h.bmc, w->size, w->have_sig ? w->sig : NULL, &h);
	pthread_mutex_lock(&s->lock);
	t = task_get(s, w->task);
	if (t && !ret) {
		hex128(&h, detail);
		snprintf(msg, sizeof(msg), "Device 'BMC' successfully updated: %" PRIu64
			 " bytes, XXH3-128 %s, now the active bank.", w->size, detail);
		task_end(t, true, "Update.1.0.UpdateSuccessful", msg);
	} else if (t) {
		id = fetch_failed ? "Update.1.0.TransferFailed" :
		     ret == -ENOKEY || ret == -EKEYREJECTED ? "Update.1.0.VerificationFailed" :
		     "Update.1.0.ApplyFailed";
		snprintf(msg, sizeof(msg), "The update failed (%s%s%s); the active image is "
			 "unchanged.", ret == -ENOKEY ? "a signature is required" :
			 ret == -EKEYREJECTED ? "the signature does not verify" :
			 ret == -EBADMSG ? "the image is incomplete" : strerror(-ret),
			 detail[0] ? ": " : "", detail);
		task_end(t, false, id, msg);
	}
	if (s->door_task == w->task)
		s->door_task = 0;
	pthread_mutex_unlock(&s->lock);
	free(w->url);
	free(w);
	return NULL;
}

/* Starts the worker (the previous one, if any, has given the door back: joined). */
static int start_worker(struct srv *s, struct work *w)
{
	if (s->worker_running)
		pthread_join(s->worker, NULL);
	s->worker_running = !pthread_create(&s->worker, NULL, worker_main, w);
	return s->worker_running ? 0 : -EAGAIN;
}

static enum MHD_Result accepted(struct MHD_Connection *c, struct srv *s, unsigned task)
{
	char mon[96];
	struct task *t;
	json_object *o = NULL;

	snprintf(mon, sizeof(mon), "/redfish/v1/TaskService/TaskMonitors/%u", task);
	pthread_mutex_lock(&s->lock);
	t = task_get(s, task);
	if (t)
		o = task_json(t);
	pthread_mutex_unlock(&s->lock);
	return send_json(c, 202, o ? o : json_object_new_object(), mon, 1, NULL);
}

/* Opens the door for an upload or SimpleUpdate and makes its task; a response if it fails. */
static int open_update(struct srv *s, struct MHD_Connection *c, uint64_t size,
		       const char *what, unsigned *task, enum MHD_Result *res)
{
	int ret = s->h.open(s->h.bmc, size);
	struct task *t;

	if (ret == -EBUSY) {
		*res = send_error(c, 503, "ServiceTemporarilyUnavailable",
				  "Another update is in progress (one at a time, window or "
				  "Redfish).", 10);
		return ret;
	}
	if (ret == -EFBIG) {
		*res = send_error(c, 413, "GeneralError",
				  "The image is larger than MaxImageSizeBytes.", 0);
		return ret;
	}
	if (ret) {
		*res = send_error(c, 500, "GeneralError", "The flash cannot take an image now.", 0);
		return ret;
	}
	pthread_mutex_lock(&s->lock);
	t = task_new(s, what, size);
	*task = t->id;
	s->door_task = t->id;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The update's task ends in failure without a worker: the door is given back. */
static void fail_update(struct srv *s, struct req *r, const char *msgid, const char *msg)
{
	struct task *t;

	if (r->door) {
		s->h.abort(s->h.bmc);
		r->door = false;
	}
	pthread_mutex_lock(&s->lock);
	t = task_get(s, r->task);
	if (t && t->state == T_RUNNING)
		task_end(t, false, msgid, msg);
	if (s->door_task == r->task)
		s->door_task = 0;
	pthread_mutex_unlock(&s->lock);
}

/* Routing */

static bool clean_path(const char *url)
{
	const char *p;

	if (strncmp(url, "/redfish", 8) || strstr(url, "//") || strstr(url, "/.") ||
	    strlen(url) > 200)
		return false;
	for (p = url; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_.-$", *p)))
			return false;
	}
	return true;
}

/* A decimal id after prefix, as the whole rest of path. */
static bool id_after(const char *path, const char *prefix, unsigned *id)
{
	size_t n = strlen(prefix);
	char *end;
	unsigned long v;

	if (strncmp(path, prefix, n) || !path[n] || path[n] < '0' || path[n] > '9')
		return false;
	v = strtoul(path + n, &end, 10);
	if (*end || !v || v > 0xffffffffu)
		return false;
	*id = (unsigned)v;
	return true;
}

static enum MHD_Result not_allowed(struct MHD_Connection *c, const char *allow)
{
	json_object *o = json_object_new_object(), *e = json_object_new_object();
	const char *str;
	struct MHD_Response *r;
	enum MHD_Result ret;

	js(e, "code", "Base.1.16.0.OperationNotAllowed");
	js(e, "message", "The HTTP method is not allowed on this resource.");
	json_object_object_add(o, "error", e);
	str = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = MHD_create_response_from_buffer(strlen(str), (void *)str, MHD_RESPMEM_MUST_COPY);
	json_object_put(o);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(r, "Allow", allow);
	ret = MHD_queue_response(c, 405, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result get_resource(struct srv *s, struct MHD_Connection *c, const char *path)
{
	static const char *const managers[] = { "/redfish/v1/Managers/bmc" };
	static const char *const systems[] = { "/redfish/v1/Systems/system" };
	static const char *const inv[] = { "/redfish/v1/UpdateService/FirmwareInventory/bmc_active",
		"/redfish/v1/UpdateService/FirmwareInventory/bmc_inactive" };
	const char *members[MAX_TASKS > MAX_SESSIONS ? MAX_TASKS : MAX_SESSIONS];
	char uris[MAX_TASKS > MAX_SESSIONS ? MAX_TASKS : MAX_SESSIONS][64];
	json_object *o = NULL;
	struct task *t;
	unsigned id;
	int i, n = 0;

	if (!strcmp(path, "/redfish/v1/Managers"))
		o = jcollection("#ManagerCollection.ManagerCollection", "Manager Collection",
				path, managers, 1);
	else if (!strcmp(path, "/redfish/v1/Managers/bmc"))
		o = manager(s);
	else if (!strcmp(path, "/redfish/v1/Systems"))
		o = jcollection("#ComputerSystemCollection.ComputerSystemCollection",
				"Computer System Collection", path, systems, 1);
	else if (!strcmp(path, "/redfish/v1/Systems/system")) {
		o = jres("#ComputerSystem.v1_20_0.ComputerSystem", "system", "Host", path);
		js(o, "SystemType", "Physical");
		js(o, "PowerState", "On");
		json_object_object_add(o, "Status", jstatus("Enabled", "OK"));
	} else if (!strcmp(path, "/redfish/v1/UpdateService"))
		o = update_service(s);
	else if (!strcmp(path, "/redfish/v1/UpdateService/FirmwareInventory"))
		o = jcollection("#SoftwareInventoryCollection.SoftwareInventoryCollection",
				"Software Inventory Collection", path, inv, 2);
	else if (!strcmp(path, inv[0]))
		o = inventory_item(s, true);
	else if (!strcmp(path, inv[1]))
		o = inventory_item(s, false);
	else if (!strcmp(path, "/redfish/v1/SessionService")) {
		o = jres("#SessionService.v1_1_8.SessionService", "SessionService",
			 "Session Service", path);
		jb(o, "ServiceEnabled", true);
		ji(o, "SessionTimeout", SESSION_IDLE_S);
		json_object_object_add(o, "Sessions", jlink("/redfish/v1/SessionService/Sessions"));
	} else if (!strcmp(path, "/redfish/v1/SessionService/Sessions")) {
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < MAX_SESSIONS; i++) {
			if (!s->sessions[i].id)
				continue;
			snprintf(uris[n], sizeof(uris[n]), "/redfish/v1/SessionService/Sessions/%u",
				 s->sessions[i].id);
			members[n] = uris[n];
			n++;
		}
		pthread_mutex_unlock(&s->lock);
		o = jcollection("#SessionCollection.SessionCollection", "Session Collection",
				path, members, n);
	} else if (id_after(path, "/redfish/v1/SessionService/Sessions/", &id)) {
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < MAX_SESSIONS && !o; i++) {
			if (s->sessions[i].id == id)
				o = session_json(&s->sessions[i]);
		}
		pthread_mutex_unlock(&s->lock);
	} else if (!strcmp(path, "/redfish/v1/TaskService")) {
		o = jres("#TaskService.v1_2_0.TaskService", "TaskService", "Task Service", path);
		jb(o, "ServiceEnabled", true);
		js(o, "CompletedTaskOverWritePolicy", "Oldest");
		json_object_object_add(o, "Status", jstatus("Enabled", "OK"));
		json_object_object_add(o, "Tasks", jlink("/redfish/v1/TaskService/Tasks"));
	} else if (!strcmp(path, "/redfish/v1/TaskService/Tasks")) {
		pthread_mutex_lock(&s->lock);
		refresh(s);
		for (i = 0; i < MAX_TASKS; i++) {
			if (!s->tasks[i].id)
				continue;
			snprintf(uris[n], sizeof(uris[n]), "/redfish/v1/TaskService/Tasks/%u",
				 s->tasks[i].id);
			members[n] = uris[n];
			n++;
		}
		pthread_mutex_unlock(&s->lock);
		o = jcollection("#TaskCollection.TaskCollection", "Task Collection", path,
				members, n);
	} else if (id_after(path, "/redfish/v1/TaskService/Tasks/", &id) ||
		   id_after(path, "/redfish/v1/TaskService/TaskMonitors/", &id)) {
		bool monitor = strstr(path, "TaskMonitors") != NULL, running = false;
		char loc[96];

		pthread_mutex_lock(&s->lock);
		refresh(s);
		t = task_get(s, id);
		if (t) {
			o = task_json(t);
			running = t->state < T_COMPLETED;
		}
		pthread_mutex_unlock(&s->lock);
		if (o && monitor && running) {
			/* DSP0266 12.2: a task monitor answers 202 while the task runs. */
			snprintf(loc, sizeof(loc), "/redfish/v1/TaskService/TaskMonitors/%u", id);
			return send_json(c, 202, o, loc, 1, NULL);
		}
	}
	if (!o)
		return send_error(c, 404, "ResourceNotFound", "The resource does not exist.", 0);
	return send_json(c, 200, o, NULL, 0, NULL);
}

/* Which methods a known path takes; NULL: not a resource here. */
static const char *allowed(const char *path)
{
	unsigned id;

	if (!strcmp(path, "/redfish/v1/SessionService/Sessions"))
		return "GET, POST";
	if (id_after(path, "/redfish/v1/SessionService/Sessions/", &id))
		return "GET, DELETE";
	if (!strcmp(path, "/redfish/v1/UpdateService/update") ||
	    !strcmp(path, "/redfish/v1/UpdateService/update-multipart") ||
	    !strcmp(path, "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"))
		return "POST";
	if (!strcmp(path, "/redfish") || !strcmp(path, "/redfish/v1") ||
	    !strcmp(path, "/redfish/v1/Managers") || !strcmp(path, "/redfish/v1/Managers/bmc") ||
	    !strcmp(path, "/redfish/v1/Systems") || !strcmp(path, "/redfish/v1/Systems/system") ||
	    !strncmp(path, "/redfish/v1/UpdateService", 25) ||
	    !strncmp(path, "/redfish/v1/TaskService", 23) ||
	    !strcmp(path, "/redfish/v1/SessionService"))
		return "GET";
	return NULL;
}

static enum MHD_Result login(struct srv *s, struct MHD_Connection *c, struct req *r)
{
	json_object *j = json_tokener_parse(r->body ? r->body : ""), *u, *p;
	char addr[INET6_ADDRSTRLEN], loc[96];
	struct session *se = NULL;
	unsigned char rnd[32];
	bool ok;
	int i;

	peer(c, addr);
	if (locked_out(s, addr)) {
		json_object_put(j);
		return send_error(c, 401, "NoValidSession",
				  "Too many failed logins from this address: try again later.", 0);
	}
	if (!j || !json_object_object_get_ex(j, "UserName", &u) ||
	    !json_object_object_get_ex(j, "Password", &p)) {
		json_object_put(j);
		return send_error(c, 400, "PropertyMissing",
				  "UserName and Password are required.", 0);
	}
	ok = check_password(s, json_object_get_string(u), json_object_get_string(p));
	if (!ok) {
		json_object_put(j);
		login_failed(s, addr);
		return send_error(c, 401, "NoValidSession", "Wrong credentials.", 0);
	}
	login_ok(s, addr);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		json_object_put(j);
		return send_error(c, 500, "GeneralError", "No randomness for a token.", 0);
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < MAX_SESSIONS && !se; i++) {
		if (!s->sessions[i].id)
			se = &s->sessions[i];
	}
	for (i = 0; i < MAX_SESSIONS && !se; i++) {	/* full: the least recently used goes */
		if (!se || s->sessions[i].last < se->last)
			se = &s->sessions[i];
	}
	se->id = ++s->next_session;
	for (i = 0; i < 32; i++)
		snprintf(se->token + 2 * i, 3, "%02x", rnd[i]);
	snprintf(se->user, sizeof(se->user), "%s", json_object_get_string(u));
	se->last = time(NULL);
	snprintf(loc, sizeof(loc), "/redfish/v1/SessionService/Sessions/%u", se->id);
	{
		json_object *o = session_json(se);
		char tok[65];

		memcpy(tok, se->token, sizeof(tok));
		pthread_mutex_unlock(&s->lock);
		json_object_put(j);
		return send_json(c, 201, o, loc, 0, tok);
	}
}

static enum MHD_Result simple_update(struct srv *s, struct MHD_Connection *c, struct req *r)
{
	json_object *j = json_tokener_parse(r->body ? r->body : ""), *u, *pr;
	struct fwp_door_status st;
	enum MHD_Result res;
	struct work *w;
	const char *uri, *proto = NULL;
	bool bad;

	if (!j || !json_object_object_get_ex(j, "ImageURI", &u)) {
		json_object_put(j);
		return send_error(c, 400, "ActionParameterMissing",
				  "SimpleUpdate needs ImageURI.", 0);
	}
	if (!s->h.fetch) {
		json_object_put(j);
		return send_error(c, 501, "ActionNotSupported",
				  "This BMC was built without a URL fetcher (libcurl).", 0);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		json_object_put(j);
		return MHD_NO;
	}
	uri = json_object_get_string(u);
	if (json_object_object_get_ex(j, "TransferProtocol", &pr))
		proto = json_object_get_string(pr);
	if (proto && !strstr(uri, "://")) {
		if (asprintf(&w->url, "%s://%s", !strcasecmp(proto, "HTTPS") ? "https" : "http",
			     uri) < 0)
			w->url = NULL;
	} else {
		w->url = strdup(uri);
	}
	w->have_sig = json_sig(j, w->sig, &bad);
	json_object_put(j);
	if (!w->url || (strncmp(w->url, "http://", 7) && strncmp(w->url, "https://", 8)) ||
	    bad) {
		free(w->url);
		free(w);
		return send_error(c, 400, "ActionParameterValueFormatError",
				  bad ? "Oem.Fwpush.Signature must be 128 hex digits." :
				  "ImageURI must be an http or https URL.", 0);
	}
	w->s = s;
	s->h.status(s->h.bmc, &st);
	if (open_update(s, c, st.capacity, "SimpleUpdate", &w->task, &res)) {
		free(w->url);
		free(w);
		return res;
	}
	pthread_mutex_lock(&s->lock);
	task_get(s, w->task)->total = 0;	/* unknown until fetched */
	pthread_mutex_unlock(&s->lock);
	if (start_worker(s, w)) {
		r->door = true;
		r->task = w->task;
		fail_update(s, r, "Update.1.0.TransferFailed", "No thread for the transfer.");
		free(w->url);
		free(w);
		return send_error(c, 500, "GeneralError", "No thread for the transfer.", 0);
	}
	return accepted(c, s, w->task);
}

/* The first call for a request: headers only. *res set when answered now. */
static bool begin_request(struct srv *s, struct MHD_Connection *c, const char *path,
			  const char *method, struct req *r, enum MHD_Result *res)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Fwpush-Signature");
	const char *allow = allowed(path);
	bool raw = !strcmp(path, "/redfish/v1/UpdateService/update");
	bool multi = !strcmp(path, "/redfish/v1/UpdateService/update-multipart");
	struct fwp_door_status st;
	char *end;

	if (!allow) {
		*res = send_error(c, 404, "ResourceNotFound", "The resource does not exist.", 0);
		return true;
	}
	if (!strstr(allow, method) || (!strcmp(method, "HEAD") && 0)) {
		*res = not_allowed(c, allow);
		return true;
	}
	/* Open to all: the version document, the service root and logging in. */
	if (!(strcmp(method, "GET") == 0 && (!strcmp(path, "/redfish") ||
					      !strcmp(path, "/redfish/v1"))) &&
	    !(strcmp(method, "POST") == 0 && !strcmp(path, "/redfish/v1/SessionService/Sessions"))
	    && authorize(s, c, res))
		return true;
	if (!strcmp(method, "GET")) {
		if (!strcmp(path, "/redfish")) {
			json_object *o = json_object_new_object();

			js(o, "v1", "/redfish/v1/");
			*res = send_json(c, 200, o, NULL, 0, NULL);
		} else if (!strcmp(path, "/redfish/v1")) {
			*res = send_json(c, 200, service_root(), NULL, 0, NULL);
		} else {
			*res = get_resource(s, c, path);
		}
		return true;
	}
	if (!strcmp(method, "DELETE")) {
		unsigned id = 0;
		int i;
		bool found = false;

		id_after(path, "/redfish/v1/SessionService/Sessions/", &id);
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < MAX_SESSIONS; i++) {
			if (s->sessions[i].id == id) {
				s->sessions[i].id = 0;
				found = true;
			}
		}
		pthread_mutex_unlock(&s->lock);
		*res = found ? send_json(c, 200, json_object_new_object(), NULL, 0, NULL) :
		       send_error(c, 404, "ResourceNotFound", "No such session.", 0);
		return true;
	}
	/* POST */
	r->length = cl ? strtoull(cl, &end, 10) : 0;
	if (!cl || *end || end == cl) {
		*res = send_error(c, 411, "GeneralError", "Content-Length is required.", 0);
		return true;
	}
	if (!raw && !multi) {
		r->kind = R_JSON;
		r->route = path;
		if (r->length > SMALL_BODY) {
			*res = send_error(c, 413, "GeneralError", "The body is too large.", 0);
			return true;
		}
		if (!ct || strncasecmp(ct, "application/json", 16)) {
			*res = send_error(c, 415, "GeneralError",
					  "The body must be application/json.", 0);
			return true;
		}
		r->body = calloc(1, r->length + 1);
		if (!r->body)
			return *res = MHD_NO, true;
		return false;
	}
	s->h.status(s->h.bmc, &st);
	if (raw && (!ct || strncasecmp(ct, "application/octet-stream", 24))) {
		*res = send_error(c, 415, "GeneralError",
				  "HttpPushUri takes application/octet-stream.", 0);
		return true;
	}
	if (multi && (!ct || strncasecmp(ct, "multipart/form-data", 19))) {
		*res = send_error(c, 415, "GeneralError",
				  "MultipartHttpPushUri takes multipart/form-data.", 0);
		return true;
	}
	/* Too large: said before a byte of it is read, or written. */
	if (r->length > st.capacity + (multi ? MULTIPART_SLACK : 0)) {
		*res = send_error(c, 413, "GeneralError",
				  "The image is larger than MaxImageSizeBytes.", 0);
		return true;
	}
	if (!r->length) {
		*res = send_error(c, 400, "GeneralError", "The image is empty.", 0);
		return true;
	}
	if (sig) {
		r->have_sig = parse_sig(sig, r->sig);
		if (!r->have_sig) {
			*res = send_error(c, 400, "GeneralError",
					  "X-Fwpush-Signature must be 128 hex digits.", 0);
			return true;
		}
	}
	if (multi) {
		r->kind = R_MULTIPART;
		r->route = (const char *)s;	/* post_iter's way back to the server */
		r->body = calloc(1, SMALL_BODY + 1);
		r->pp = r->body ? MHD_create_post_processor(c, 64 << 10, post_iter, r) : NULL;
		if (!r->pp) {
			*res = send_error(c, 400, "GeneralError",
					  "Malformed multipart/form-data (no boundary?).", 0);
			return true;
		}
	} else {
		r->kind = R_RAW;
	}
	if (open_update(s, c, r->length > st.capacity ? st.capacity : r->length,
			multi ? "multipart upload" : "upload", &r->task, res))
		return true;
	r->door = true;
	return false;
}

/* The whole body is in: answer it. */
static enum MHD_Result end_request(struct srv *s, struct MHD_Connection *c, struct req *r)
{
	struct work *w;
	json_object *j;
	bool bad = false;

	if (r->kind == R_JSON) {
		if (!strcmp(r->route, "/redfish/v1/SessionService/Sessions"))
			return login(s, c, r);
		return simple_update(s, c, r);
	}
	if (r->kind == R_MULTIPART) {
		if (!r->err_code && MHD_destroy_post_processor(r->pp) != MHD_YES)
			req_fail(r, 400, "GeneralError", "Malformed multipart/form-data.");
		r->pp = NULL;
		if (!r->err_code && !r->file_seen)
			req_fail(r, 400, "ActionParameterMissing",
				 "The multipart body has no UpdateFile part.");
		if (!r->err_code && r->body_len) {
			j = json_tokener_parse(r->body);
			if (!j)
				req_fail(r, 400, "MalformedJSON", "UpdateParameters is not JSON.");
			if (j && json_sig(j, r->sig, &bad))
				r->have_sig = true;
			if (bad)
				req_fail(r, 400, "GeneralError",
					 "Oem.Fwpush.Signature must be 128 hex digits.");
			json_object_put(j);
		}
	}
	if (!r->err_code && !r->got)
		req_fail(r, 400, "GeneralError", "The image is empty.");
	if (r->err_code) {
		fail_update(s, r, "Update.1.0.TransferFailed", r->err_msg);
		return send_error(c, (unsigned)r->err_code, r->err_id, r->err_msg, 0);
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		fail_update(s, r, "Update.1.0.TransferFailed", "Out of memory.");
		return MHD_NO;
	}
	*w = (struct work){ .s = s, .task = r->task, .size = r->got, .have_sig = r->have_sig };
	memcpy(w->sig, r->sig, sizeof(w->sig));
	if (start_worker(s, w)) {
		free(w);
		fail_update(s, r, "Update.1.0.ApplyFailed", "No thread to finish the update.");
		return send_error(c, 500, "GeneralError", "No thread to finish the update.", 0);
	}
	r->door = false;	/* the worker's now */
	return accepted(c, s, r->task);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *data, size_t *data_size, void **con_cls)
{
	struct srv *s = cls;
	struct req *r = *con_cls;
	enum MHD_Result res = MHD_NO;
	char path[256];
	size_t n;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		if (!clean_path(url))
			return send_error(c, 404, "ResourceNotFound", "The resource does not exist.",
					  0);
		n = strlen(url);
		memcpy(path, url, n + 1);
		if (n > 1 && path[n - 1] == '/')
			path[n - 1] = 0;	/* /redfish/v1/ is /redfish/v1 */
		{
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
								     "Content-Length");
			unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
			bool answered;

			defer_to = !strcmp(method, "POST") && len && len <= DRAIN_MAX ? r : NULL;
			answered = begin_request(s, c, path, method, r, &res);
			defer_to = NULL;
			if (r->kind == R_DRAIN)
				return MHD_YES;	/* the error is answered once the body is in */
			if (answered)
				return res;
		}
		return MHD_YES;
	}
	if (*data_size) {
		if (r->kind == R_DRAIN) {
			*data_size = 0;
			return MHD_YES;
		}
		if (r->kind == R_JSON) {
			if (r->body_len + *data_size > r->length)
				return MHD_NO;
			memcpy(r->body + r->body_len, data, *data_size);
			r->body_len += *data_size;
		} else if (r->kind == R_RAW) {
			req_write(s, r, data, *data_size);
		} else if (r->kind == R_MULTIPART && !r->err_code) {
			if (MHD_post_process(r->pp, data, *data_size) != MHD_YES)
				req_fail(r, 400, "GeneralError", "Malformed multipart/form-data.");
		}
		*data_size = 0;
		/* A failure is answered now: the rest of the body is never read, nor written. */
		if (r->err_code && r->door) {
			fail_update(s, r, "Update.1.0.TransferFailed", r->err_msg);
			if (r->length <= DRAIN_MAX) {
				r->kind = R_DRAIN;	/* answered once the rest is read */
				return MHD_YES;
			}
			return send_error(c, (unsigned)r->err_code, r->err_id, r->err_msg, 0);
		}
		return MHD_YES;
	}
	if (r->kind == R_NONE)
		return MHD_NO;
	if (r->kind == R_DRAIN)
		return send_error(c, (unsigned)r->err_code, r->err_id, r->err_msg, r->err_retry);
	return end_request(s, c, r);
}

/* A request ends, answered or not: an upload cut off drops its image. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct req *r = *con_cls;

	(void)c;
	(void)toe;
	if (!r)
		return;
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	if (r->door)
		fail_update(s, r, "Update.1.0.TransferFailed",
			    "The upload was cut off; the active image is unchanged.");
	free(r->body);
	free(r);
	*con_cls = NULL;
}

/* Setup */

static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	long n;
	char *b;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20) || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EINVAL;
	}
	b = calloc(1, (size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*out = b;
	return 0;
}

static int load_users(struct srv *s, char *err, size_t len)
{
	char *text, *line, *save = NULL, *colon;
	int ret = read_file(s->o.users_path, &text);

	if (ret) {
		snprintf(err, len, "redfish: credentials %s: %s", s->o.users_path, strerror(-ret));
		return ret;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line[strcspn(line, "\r")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		/* A crypt(3) hash, never a password: "$id$...", at least a salt and a digest. */
		if (!colon || colon == line || (size_t)(colon - line) >= sizeof(s->users[0].name) ||
		    colon[1] != '$' || strlen(colon + 1) < 20 || s->n_users == MAX_USERS) {
			snprintf(err, len, "redfish: credentials %s: expected NAME:HASH lines, HASH "
				 "from 'openssl passwd -6' (at most %d users)", s->o.users_path,
				 MAX_USERS);
			free(text);
			return -EINVAL;
		}
		*colon = 0;
		snprintf(s->users[s->n_users].name, sizeof(s->users[0].name), "%s", line);
		s->users[s->n_users].hash = strdup(colon + 1);
		s->n_users++;
	}
	free(text);
	if (!s->n_users) {
		snprintf(err, len, "redfish: credentials %s: no users (there is no default)",
			 s->o.users_path);
		return -EINVAL;
	}
	return 0;
}

static int write_file(const char *path, const gnutls_datum_t *d, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, d->data, d->size) != (ssize_t)d->size || fsync(fd))
		ret = -EIO;
	close(fd);
	if (ret)
		unlink(path);
	return ret;
}

/* A self-signed ECDSA P-256 certificate for localhost and 127.0.0.1, valid ten years. */
static int make_cert(struct srv *s, char *err, size_t len)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t kd = { NULL, 0 }, cd = { NULL, 0 };
	unsigned char serial[16];
	static const unsigned char lo[4] = { 127, 0, 0, 1 };
	time_t now = time(NULL);
	int ret = -EIO;

	if (gnutls_x509_privkey_init(&key) || gnutls_x509_crt_init(&crt) ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
				GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0))
		goto out;
	if (getrandom(serial, sizeof(serial), 0) != sizeof(serial))
		goto out;
	serial[0] &= 0x7f;
	if (gnutls_x509_crt_set_version(crt, 3) ||
	    gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) ||
	    gnutls_x509_crt_set_activation_time(crt, now - 3600) ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 10 * 365 * 86400L) ||
	    gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "fwpush bmc-sim",
					  14) ||
	    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
						 GNUTLS_FSAN_SET) ||
	    gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, lo, 4,
						 GNUTLS_FSAN_APPEND) ||
	    gnutls_x509_crt_set_basic_constraints(crt, 0, -1) ||
	    gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE) ||
	    gnutls_x509_crt_set_key(crt, key) ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) ||
	    gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cd) ||
	    gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &kd))
		goto out;
	s->cert = strndup((char *)cd.data, cd.size);
	s->key = strndup((char *)kd.data, kd.size);
	ret = s->cert && s->key ? 0 : -ENOMEM;
	if (!ret && s->o.tls_state) {
		char p[4200];

		snprintf(p, sizeof(p), "%s.key", s->o.tls_state);
		ret = write_file(p, &kd, 0600);
		snprintf(p, sizeof(p), "%s.crt", s->o.tls_state);
		if (!ret)
			ret = write_file(p, &cd, 0644);
		if (ret)
			snprintf(err, len, "redfish: cannot keep the certificate at %s: %s", p,
				 strerror(-ret));
	}
out:
	if (ret == -EIO && !err[0])
		snprintf(err, len, "redfish: cannot make a self-signed certificate");
	gnutls_free(cd.data);
	if (kd.data)
		gnutls_memset(kd.data, 0, kd.size);
	gnutls_free(kd.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return ret;
}

static int load_tls(struct srv *s, char *err, size_t len)
{
	char crt[4200], key[4200];
	const char *cp = s->o.tls_cert, *kp = s->o.tls_key;
	int ret;

	if (!cp != !kp) {
		snprintf(err, len, "redfish: --tls-cert and --tls-key go together");
		return -EINVAL;
	}
	if (!cp && s->o.tls_state) {
		snprintf(crt, sizeof(crt), "%s.crt", s->o.tls_state);
		snprintf(key, sizeof(key), "%s.key", s->o.tls_state);
		if (!access(crt, F_OK) && !access(key, F_OK)) {
			cp = crt;
			kp = key;
		}
	}
	if (!cp)
		return make_cert(s, err, len);
	ret = read_file(cp, &s->cert);
	if (!ret)
		ret = read_file(kp, &s->key);
	if (ret)
		snprintf(err, len, "redfish: TLS %s: %s", s->cert ? kp : cp, strerror(-ret));
	return ret;
}

static void srv_free(struct srv *s)
{
	int i;

	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	if (s->poller_running) {
		pthread_mutex_lock(&s->lock);
		s->stopping = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->poller, NULL);
	}
	if (s->worker_running)
		pthread_join(s->worker, NULL);
	for (i = 0; i < s->n_users; i++)
		free(s->users[i].hash);
	free(s->cert);
	if (s->key)
		memset(s->key, 0, strlen(s->key));
	free(s->key);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

static int parse_listen(const char *spec, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host[0] ? host : "127.0.0.1", &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static int start(const struct fwp_redfish_opts *o, const struct fwp_redfish_host *h,
		 void **out, unsigned *port, char *err, size_t len)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *di;
	struct srv *s = calloc(1, sizeof(*s));
	int ret;

	err[0] = 0;
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->o = *o;
	s->h = *h;
	if (!s->o.lockout_failures)
		s->o.lockout_failures = 5;
	if (!s->o.lockout_ms)
		s->o.lockout_ms = 30000;
	if (!s->o.timeout_s)
		s->o.timeout_s = 30;
	ret = parse_listen(o->listen ? o->listen : "127.0.0.1:8443", &sa);
	if (ret) {
		snprintf(err, len, "redfish: %s: expected ADDR:PORT (IPv4)", o->listen);
		goto fail;
	}
	if (!o->users_path) {
		snprintf(err, len, "redfish: a credentials file is required (no default password)");
		ret = -EINVAL;
		goto fail;
	}
	ret = load_users(s, err, len);
	if (!ret)
		ret = load_tls(s, err, len);
	if (ret)
		goto fail;
	s->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				MHD_USE_TLS | MHD_USE_POLL,
				0, NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_HTTPS_MEM_CERT, s->cert,
				MHD_OPTION_HTTPS_MEM_KEY, s->key,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->o.timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 << 10),
				MHD_OPTION_CONNECTION_LIMIT, 32u,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16u,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_END);
	if (!s->d) {
		snprintf(err, len, "redfish: cannot serve HTTPS on %s (in use, or a bad "
			 "certificate/key)", o->listen ? o->listen : "127.0.0.1:8443");
		ret = -EADDRINUSE;
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	*port = di ? di->port : ntohs(sa.sin_port);
	s->poller_running = !pthread_create(&s->poller, NULL, poller_main, s);
	*out = s;
	return 0;
fail:
	srv_free(s);
	return ret;
}

static void stop(void *srv)
{
	srv_free(srv);
}

const struct fwp_redfish_ops fwp_redfish_mhd = {
	.start = start,
	.stop = stop,
};

#ifdef FWP_MODULE
FWP_MODULE_EXPORT("redfish", fwp_redfish_mhd);
#endif
