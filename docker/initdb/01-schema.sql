-- Schema of the demo table that queryd serves (see 02-data.sql for the rows).
-- Run by the mariadb:10.11 image from /docker-entrypoint-initdb.d and by
-- scripts/private_mariadb.py for local runs; safe to run more than once.

SET NAMES utf8mb4;
SET time_zone = '+00:00';

CREATE DATABASE IF NOT EXISTS queryd CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE queryd;

CREATE TABLE IF NOT EXISTS users (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(255) NOT NULL UNIQUE,
  age INT NULL,
  balance DECIMAL(12,2) NOT NULL,
  active BOOLEAN NOT NULL,
  created_at DATETIME NOT NULL,
  bio TEXT NULL,
  visits BIGINT NOT NULL,
  score DOUBLE NULL,
  birthday DATE NULL,
  last_login TIMESTAMP(3) NULL,
  avatar VARBINARY(16) NULL,
  prefs JSON NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
