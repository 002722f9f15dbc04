package botapi

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// What Telegram fills in of the updates and messages it makes.

// UTF16Len counts UTF-16 code units: Telegram measures text limits and entity
// offsets in them, so a character outside the BMP (most emoji) counts twice.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// CommandEntities finds bot commands the way Telegram (tdlib's
// find_bot_commands) does: "/" plus 1–64 Latin letters, digits or underscores,
// optionally "@username", neither preceded nor followed by a word character.
// So "/старт" or "/nápad" are not commands. Offsets and lengths are UTF-16.
func CommandEntities(text string) []models.MessageEntity {
	var out []models.MessageEntity
	for i := 0; i < len(text); i++ {
		if text[i] != '/' {
			continue
		}
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(text[:i])
			if isWordRune(prev) || prev == '/' || prev == '<' || prev == '>' {
				continue
			}
		}
		j := i + 1
		for j < len(text) && isCommandByte(text[j]) {
			j++
		}
		if j == i+1 || j-i-1 > 64 {
			continue
		}
		end := j
		if j < len(text) && text[j] == '@' {
			k := j + 1
			for k < len(text) && isCommandByte(text[k]) {
				k++
			}
			if k == j+1 || k-j-1 > 32 {
				continue
			}
			end = k
		}
		if end < len(text) {
			next, _ := utf8.DecodeRuneInString(text[end:])
			if isWordRune(next) || next == '/' || next == '<' || next == '>' {
				continue
			}
		}
		out = append(out, models.MessageEntity{
			Type:   models.MessageEntityTypeBotCommand,
			Offset: UTF16Len(text[:i]),
			Length: UTF16Len(text[i:end]),
		})
		i = end - 1
	}
	return out
}

func isCommandByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// ChatInstance is stable per chat, like Telegram's opaque chat_instance.
func ChatInstance(chatID int64) string {
	return strconv.FormatInt(int64(hash64("chat:"+strconv.FormatInt(chatID, 10))>>1), 10)
}

// UniqueID is a file_unique_id for fileID, stable like Telegram's.
func UniqueID(fileID string) string {
	return fmt.Sprintf("AQAD%012x", hash64(fileID)>>16)
}

func hash64(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}

// PhotoSizes mimics Telegram's thumbnails: increasing sizes, largest last.
func PhotoSizes(fileID string, fileSize int) []models.PhotoSize {
	fileSize = max(fileSize, 3)
	sizes := []models.PhotoSize{
		{FileID: fileID + "-s", Width: 90, Height: 68, FileSize: max(fileSize/60, 1)},
		{FileID: fileID + "-m", Width: 320, Height: 240, FileSize: max(fileSize/8, 2)},
		{FileID: fileID, Width: 1280, Height: 960, FileSize: fileSize},
	}
	for i := range sizes {
		sizes[i].FileUniqueID = UniqueID(sizes[i].FileID)
	}
	return sizes
}
