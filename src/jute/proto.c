#include "jute/proto.h"

const char *zk_op_name(int32_t op)
{
	switch (op) {
	case ZOP_NOTIFICATION: return "notification";
	case ZOP_CREATE: return "create";
	case ZOP_DELETE: return "delete";
	case ZOP_EXISTS: return "exists";
	case ZOP_GET_DATA: return "getData";
	case ZOP_SET_DATA: return "setData";
	case ZOP_GET_ACL: return "getACL";
	case ZOP_SET_ACL: return "setACL";
	case ZOP_GET_CHILDREN: return "getChildren";
	case ZOP_SYNC: return "sync";
	case ZOP_PING: return "ping";
	case ZOP_GET_CHILDREN2: return "getChildren2";
	case ZOP_CHECK: return "check";
	case ZOP_MULTI: return "multi";
	case ZOP_CREATE2: return "create2";
	case ZOP_RECONFIG: return "reconfig";
	case ZOP_CHECK_WATCHES: return "checkWatches";
	case ZOP_REMOVE_WATCHES: return "removeWatches";
	case ZOP_CREATE_CONTAINER: return "createContainer";
	case ZOP_DELETE_CONTAINER: return "deleteContainer";
	case ZOP_CREATE_TTL: return "createTTL";
	case ZOP_MULTI_READ: return "multiRead";
	case ZOP_AUTH: return "auth";
	case ZOP_SET_WATCHES: return "setWatches";
	case ZOP_SASL: return "sasl";
	case ZOP_GET_EPHEMERALS: return "getEphemerals";
	case ZOP_GET_ALL_CHILDREN_NUMBER: return "getAllChildrenNumber";
	case ZOP_SET_WATCHES2: return "setWatches2";
	case ZOP_ADD_WATCH: return "addWatch";
	case ZOP_WHO_AM_I: return "whoAmI";
	case ZOP_CREATE_SESSION: return "createSession";
	case ZOP_CLOSE_SESSION: return "closeSession";
	case ZOP_ERROR: return "error";
	default: return "unknown";
	}
}

const char *zk_err_name(int32_t err)
{
	switch (err) {
	case ZOK: return "OK";
	case ZSYSTEMERROR: return "SystemError";
	case ZRUNTIMEINCONSISTENCY: return "RuntimeInconsistency";
	case ZDATAINCONSISTENCY: return "DataInconsistency";
	case ZCONNECTIONLOSS: return "ConnectionLoss";
	case ZMARSHALLINGERROR: return "MarshallingError";
	case ZUNIMPLEMENTED: return "Unimplemented";
	case ZOPERATIONTIMEOUT: return "OperationTimeout";
	case ZBADARGUMENTS: return "BadArguments";
	case ZUNKNOWNSESSION: return "UnknownSession";
	case ZNEWCONFIGNOQUORUM: return "NewConfigNoQuorum";
	case ZRECONFIGINPROGRESS: return "ReconfigInProgress";
	case ZAPIERROR: return "APIError";
	case ZNONODE: return "NoNode";
	case ZNOAUTH: return "NoAuth";
	case ZBADVERSION: return "BadVersion";
	case ZNOCHILDRENFOREPHEMERALS: return "NoChildrenForEphemerals";
	case ZNODEEXISTS: return "NodeExists";
	case ZNOTEMPTY: return "NotEmpty";
	case ZSESSIONEXPIRED: return "SessionExpired";
	case ZINVALIDCALLBACK: return "InvalidCallback";
	case ZINVALIDACL: return "InvalidACL";
	case ZAUTHFAILED: return "AuthFailed";
	case ZSESSIONMOVED: return "SessionMoved";
	case ZNOTREADONLY: return "NotReadOnly";
	case ZEPHEMERALONLOCALSESSION: return "EphemeralOnLocalSession";
	case ZNOWATCHER: return "NoWatcher";
	case ZREQUESTTIMEOUT: return "RequestTimeout";
	case ZRECONFIGDISABLED: return "ReconfigDisabled";
	case ZSESSIONCLOSEDREQUIRESASLAUTH: return "SessionClosedRequireSaslAuth";
	case ZQUOTAEXCEEDED: return "QuotaExceeded";
	case ZTHROTTLED: return "Throttled";
	default: return "Unknown";
	}
}

int zk_op_is_write(int32_t op)
{
	switch (op) {
	case ZOP_CREATE:
	case ZOP_CREATE2:
	case ZOP_CREATE_CONTAINER:
	case ZOP_CREATE_TTL:
	case ZOP_DELETE:
	case ZOP_SET_DATA:
	case ZOP_SET_ACL:
	case ZOP_MULTI:
	case ZOP_RECONFIG:
	case ZOP_CREATE_SESSION:
	case ZOP_CLOSE_SESSION:
		return 1;
	default:
		return 0;
	}
}
