/** A user as others see it; `email` is present only when the viewer is that user. */
export interface UserProfile {
  id: number;
  name: string;
  bio: string | null;
  createdAt: Date;
  followersCount: number;
  followingCount: number;
  isFollowing: boolean;
  email?: string;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  name: string;
}
