package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// What the web channel (bot/web) keeps besides the conversation: each web
// chat's transcript, the files its replies carried (/mydata's JSON, a
// picture) and the short codes that continue a chat on another device.
//
// A chat's keys share the hash tag {web:CHAT} (one cluster slot):
//   - PREFIX{web:CHAT}, a hash of the transcript's version "v" and its data
//     "d", an opaque blob the web channel reads and writes whole;
//   - PREFIX{web:CHAT}:files, a hash of file id to bytes, with a short time
//     limit renewed by every file put.
//
// A resume code is PREFIX{webresume:CODE}, holding the web id it stands for.

// saveTranscriptScript saves a transcript if its version is still the one
// read, as the next version, and returns 1; else 0.
// KEYS[1] = the transcript. ARGV[1] = the version read ("0": none),
// ARGV[2] = data, ARGV[3] = time to live in ms.
var saveTranscriptScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v') or '0'
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', tostring(tonumber(cur) + 1), 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// saveResumeScript lets a code stand for a web id, if it is free or stands
// for that web id already, for a time; returns 1, or 0 if the code is
// someone else's.
// KEYS[1] = the code. ARGV[1] = the web id, ARGV[2] = time to live in ms.
var saveResumeScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// deleteResumeScript deletes a code if it stands for the web id.
// KEYS[1] = the code. ARGV[1] = the web id.
var deleteResumeScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

func (s *Store) webKey(chat int64) string {
	return s.prefix + "{web:" + strconv.FormatInt(chat, 10) + "}"
}

func (s *Store) resumeKey(code string) (string, error) {
	k, err := s.fullKey("webresume:" + code)
	if err != nil {
		return "", fmt.Errorf("resume code: %w", err)
	}
	return k, nil
}

func millis(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

// WebTranscript is a web chat's transcript as stored (nil: none) and its
// version, for SaveWebTranscript.
func (s *Store) WebTranscript(ctx context.Context, chat int64) (data []byte, version int64, err error) {
	v, err := s.client.HMGet(ctx, s.webKey(chat), "v", "d").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redis: web transcript: %w", err)
	}
	ver, _ := v[0].(string)
	d, _ := v[1].(string)
	if ver == "" {
		return nil, 0, nil
	}
	version, err = strconv.ParseInt(ver, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("redis: web transcript version %q: %w", ver, err)
	}
	return []byte(d), version, nil
}

// SaveWebTranscript stores data as a web chat's transcript, kept for ttl,
// if its version is still version (0: there was none); saved is false if
// someone changed it since it was read.
func (s *Store) SaveWebTranscript(ctx context.Context, chat int64, data []byte, version int64, ttl time.Duration) (saved bool, err error) {
	if ttl <= 0 {
		return false, errors.New("redis: save web transcript: the time to live must be positive")
	}
	n, err := saveTranscriptScript.Run(ctx, s.client, []string{s.webKey(chat)}, strconv.FormatInt(version, 10), data, millis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("redis: save web transcript: %w", err)
	}
	return n == 1, nil
}

// DeleteWebChat deletes a web chat's transcript and files.
func (s *Store) DeleteWebChat(ctx context.Context, chat int64) error {
	k := s.webKey(chat)
	if err := s.client.Del(ctx, k, k+":files").Err(); err != nil {
		return fmt.Errorf("redis: delete web chat: %w", err)
	}
	return nil
}

// PutWebFile keeps a file of a web chat under id for ttl (at least: a
// later file of the chat keeps the earlier ones as long).
func (s *Store) PutWebFile(ctx context.Context, chat int64, id string, data []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return errors.New("redis: put web file: the time to live must be positive")
	}
	k := s.webKey(chat) + ":files"
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, k, id, data)
		p.PExpire(ctx, k, time.Duration(millis(ttl))*time.Millisecond)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis: put web file: %w", err)
	}
	return nil
}

// WebFile is the file of a web chat kept under id (found false: none, or
// it ran out).
func (s *Store) WebFile(ctx context.Context, chat int64, id string) (data []byte, found bool, err error) {
	data, err = s.client.HGet(ctx, s.webKey(chat)+":files", id).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redis: web file: %w", err)
	}
	return data, true, nil
}

// SaveResumeCode lets code stand for webID for ttl: a new code, or webID's
// own again (which renews it). saved is false if the code stands for
// another web id.
func (s *Store) SaveResumeCode(ctx context.Context, code, webID string, ttl time.Duration) (saved bool, err error) {
	if ttl <= 0 || webID == "" {
		return false, errors.New("redis: save resume code: a web id and a positive time to live are required")
	}
	k, err := s.resumeKey(code)
	if err != nil {
		return false, fmt.Errorf("redis: save %w", err)
	}
	n, err := saveResumeScript.Run(ctx, s.client, []string{k}, webID, millis(ttl)).Int()
	if err != nil {
		return false, fmt.Errorf("redis: save resume code: %w", err)
	}
	return n == 1, nil
}

// ResumeCode is the web id code stands for (found false: none).
func (s *Store) ResumeCode(ctx context.Context, code string) (webID string, found bool, err error) {
	k, err := s.resumeKey(code)
	if err != nil {
		return "", false, fmt.Errorf("redis: %w", err)
	}
	webID, err = s.client.Get(ctx, k).Result()
	if errors.Is(err, goredis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("redis: resume code: %w", err)
	}
	return webID, true, nil
}

// DeleteResumeCode deletes code if it stands for webID.
func (s *Store) DeleteResumeCode(ctx context.Context, code, webID string) error {
	k, err := s.resumeKey(code)
	if err != nil {
		return fmt.Errorf("redis: delete %w", err)
	}
	if err := deleteResumeScript.Run(ctx, s.client, []string{k}, webID).Err(); err != nil {
		return fmt.Errorf("redis: delete resume code: %w", err)
	}
	return nil
}
